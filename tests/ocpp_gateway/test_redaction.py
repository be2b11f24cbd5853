"""The station's password never lands in the database: a ChangeConfiguration of AuthorizationKey
is logged and recorded with its value "***", the real value reaches the station through the
cache and the connection's memory only, and whatever shows commands or log rows redacts too."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connection

from ocpp_gateway.api.serializers import CommandSerializer, OcppMessageSerializer
from ocpp_gateway.models import Command, CommandOrigin, CommandState, Direction, OcppMessage
from ocpp_gateway.operations.commands import (
    command_claim,
    command_record,
    command_send,
    password_command,
)
from ocpp_gateway.transport.log_writer import writer
from ocpp_gateway.transport.message_log import log_entry
from stations.models import ConfigurationKey, ConnectionState, Station
from tests.factories import StationFactory
from tests.ocpp_gateway.connections import open_station as open_connected

PASSWORD = "Pushable-Pass-2024"
HEX = PASSWORD.encode().hex()


def authorization_key_payload(password: str) -> dict:
    """The ChangeConfiguration that pushes ``password`` to an OCPP 1.6 station."""
    return password_command(station=Station(), password=password)[1]


def password_variable(value: str, field: str = "attributeValue") -> dict:
    return {
        field: value,
        "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"},
    }


def out_frame(payload: dict, action: str = "ChangeConfiguration") -> str:
    return json.dumps([2, "call-1", action, payload])


def logged(text: str, direction=Direction.OUT) -> OcppMessage:
    return log_entry(text=text, direction=direction, station_id=None, charge_point_id="CP-1")


def secret_key(command: Command) -> str:
    return f"ocpp_gateway:command-secret:{command.pk}"


def database_holds(*secrets: str) -> list[str]:
    """The tables of the gateway and stations whose text mentions any of ``secrets``."""
    found = []
    with connection.cursor() as cursor:
        for model in (OcppMessage, Command, ConfigurationKey, Station):
            table = model._meta.db_table
            cursor.execute(f"SELECT * FROM {table}")
            for row in cursor.fetchall():
                text = " ".join(str(value) for value in row)
                found += [table for secret in secrets if secret in text]
    return found


class TestTheMessageLog:
    def test_a_change_configuration_of_authorization_key_is_logged_with_its_value_hidden(self):
        entry = logged(out_frame({"key": "AuthorizationKey", "value": HEX}))

        assert (entry.action, entry.payload) == (
            "ChangeConfiguration",
            {"key": "AuthorizationKey", "value": "***"},
        )

    def test_the_key_is_recognised_whatever_its_case(self):
        entry = logged(out_frame({"key": "authorizationKEY", "value": HEX}))

        assert entry.payload == {"key": "authorizationKEY", "value": "***"}

    def test_other_configuration_keys_are_logged_as_they_are(self):
        payload = {"key": "HeartbeatInterval", "value": "300"}

        assert logged(out_frame(payload)).payload == payload

    def test_an_authorization_key_value_a_station_wrongly_reports_is_hidden_too(self):
        answer = {
            "configurationKey": [
                {"key": "AuthorizationKey", "readonly": False, "value": HEX},
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            ]
        }

        entry = logged(json.dumps([3, "call-1", answer]), direction=Direction.IN)

        assert entry.payload == {
            "configurationKey": [
                {"key": "AuthorizationKey", "readonly": False, "value": "***"},
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            ]
        }


class TestTheMessageLogOf201:
    def test_a_set_variables_of_the_password_is_logged_with_its_value_hidden(self):
        other = {
            "attributeValue": "60",
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "OfflineThreshold"},
        }
        payload = {"setVariableData": [other, password_variable(PASSWORD)]}

        entry = logged(out_frame(payload, "SetVariables"))

        assert entry.payload == {"setVariableData": [other, password_variable("***")]}

    def test_a_password_a_station_wrongly_reports_in_get_variables_is_hidden(self):
        answer = {"getVariableResult": [{"attributeStatus": "Accepted", **password_variable("x")}]}

        entry = logged(json.dumps([3, "call-1", answer]), direction=Direction.IN)

        assert entry.payload["getVariableResult"][0]["attributeValue"] == "***"


def test_a_201_station_is_sent_its_password_as_is_in_set_variables():
    station = Station(ocpp_version="2.0.1")

    assert password_command(station=station, password=PASSWORD) == (
        "SetVariables",
        {"setVariableData": [password_variable(PASSWORD)]},
    )


def test_authorization_key_is_the_password_s_bytes_in_hexadecimal():
    assert authorization_key_payload("0123456789abcdef") == {
        "key": "AuthorizationKey",
        "value": "30313233343536373839616263646566",
    }


@pytest.mark.django_db
class TestTheCommandRow:
    @pytest.fixture
    def station(self):
        return StationFactory(connection_state=ConnectionState.CONNECTED)

    def test_the_command_row_keeps_a_placeholder_and_the_connection_gets_the_value(
        self, station, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            command = command_send(
                station=station,
                action="ChangeConfiguration",
                payload=authorization_key_payload(PASSWORD),
            )

        stored = Command.objects.get(pk=command.pk)
        assert stored.payload == command.payload == {"key": "AuthorizationKey", "value": "***"}
        claimed = command_claim(command_id=command.pk, unique_id="u-1")
        assert claimed.payload == {"key": "AuthorizationKey", "value": HEX}
        assert Command.objects.get(pk=command.pk).payload["value"] == "***"
        assert cache.get(secret_key(command)) is None  # handed over once, then forgotten
        assert database_holds(PASSWORD, HEX) == []

    def test_a_201_command_row_keeps_a_placeholder_and_the_connection_gets_the_value(
        self, station, django_capture_on_commit_callbacks
    ):
        station.ocpp_version = "2.0.1"
        station.save()
        action, payload = password_command(station=station, password=PASSWORD)
        with django_capture_on_commit_callbacks(execute=True):
            command = command_send(station=station, action=action, payload=payload)

        assert Command.objects.get(pk=command.pk).payload == {
            "setVariableData": [password_variable("***")]
        }
        claimed = command_claim(command_id=command.pk, unique_id="u-1")
        assert claimed.payload == {"setVariableData": [password_variable(PASSWORD)]}
        assert database_holds(PASSWORD) == []

    def test_a_command_whose_value_was_lost_fails_instead_of_sending_the_placeholder(
        self, station, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False):  # never committed to the cache
            command = command_send(
                station=station,
                action="ChangeConfiguration",
                payload=authorization_key_payload(PASSWORD),
            )
        cache.delete(secret_key(command))

        assert command_claim(command_id=command.pk, unique_id="u-1") is None

        command.refresh_from_db()
        assert command.state == CommandState.FAILED
        assert command.detail.startswith("The password to send had expired or was lost")

    def test_a_command_recorded_by_a_procedure_is_redacted_too(
        self, station, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            command = command_record(
                station=station,
                action="ChangeConfiguration",
                payload={"key": "AuthorizationKey", "value": HEX},
                origin=CommandOrigin.STAFF,
            )

        assert Command.objects.get(pk=command.pk).payload["value"] == "***"
        assert command_claim(command_id=command.pk, unique_id="u-2").payload["value"] == HEX

    def test_an_attempt_at_an_offline_station_is_recorded_redacted(self):
        station = StationFactory()

        with pytest.raises(Exception, match="not connected"):
            command_send(
                station=station,
                action="ChangeConfiguration",
                payload=authorization_key_payload(PASSWORD),
            )

        assert Command.objects.get().payload == {"key": "AuthorizationKey", "value": "***"}

    def test_rows_stored_before_redaction_are_shown_redacted(self, station):
        command = Command.objects.create(
            station=station,
            action="ChangeConfiguration",
            payload={"key": "AuthorizationKey", "value": HEX},
            response={"configurationKey": [{"key": "AuthorizationKey", "value": HEX}]},
        )
        message = OcppMessage.objects.create(
            station=station,
            charge_point_id=station.charge_point_id,
            direction=Direction.OUT,
            message_type=2,
            unique_id="old",
            action="ChangeConfiguration",
            payload={"key": "AuthorizationKey", "value": HEX},
            created_at=command.created_at,
        )

        shown = json.dumps([CommandSerializer(command).data, OcppMessageSerializer(message).data])

        assert HEX not in shown
        assert shown.count('"***"') == 3


# --- Over a real connection -----------------------------------------------------------------


@pytest.fixture
def online_station(transactional_db) -> Station:
    return StationFactory(charge_point_id="CP-SECRET")


async def open_station() -> WebsocketCommunicator:
    return await open_connected("CP-SECRET")


async def finished(command: Command) -> Command:
    for _ in range(250):
        command = await database_sync_to_async(Command.objects.get)(pk=command.pk)
        if command.is_finished:
            break
        await asyncio.sleep(0.02)
    return command


@pytest.mark.django_db(transaction=True)
async def test_the_station_receives_the_password_and_the_database_never_holds_it(online_station):
    communicator = await open_station()

    command = await database_sync_to_async(command_send)(
        station=online_station,
        action="ChangeConfiguration",
        payload=authorization_key_payload(PASSWORD),
    )
    frame = json.loads(await communicator.receive_from(timeout=5))
    await communicator.send_to(text_data=json.dumps([3, frame[1], {"status": "Accepted"}]))
    command = await finished(command)

    assert frame[2:] == ["ChangeConfiguration", {"key": "AuthorizationKey", "value": HEX}]
    assert (command.state, command.payload) == (
        "accepted",
        {"key": "AuthorizationKey", "value": "***"},
    )
    await database_sync_to_async(writer.flush)()
    rows = await database_sync_to_async(
        lambda: list(OcppMessage.objects.filter(unique_id=frame[1]).order_by("id"))
    )()
    assert [(row.direction, row.payload) for row in rows] == [
        ("out", {"key": "AuthorizationKey", "value": "***"}),
        ("in", {"status": "Accepted"}),
    ]
    assert await database_sync_to_async(database_holds)(PASSWORD, HEX) == []
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_station_reporting_its_authorization_key_leaks_it_nowhere(online_station):
    communicator = await open_station()

    command = await database_sync_to_async(command_send)(
        station=online_station, action="GetConfiguration", payload={}
    )
    frame = json.loads(await communicator.receive_from(timeout=5))
    answer = {"configurationKey": [{"key": "AuthorizationKey", "readonly": False, "value": HEX}]}
    await communicator.send_to(text_data=json.dumps([3, frame[1], answer]))
    command = await finished(command)

    assert command.state == "accepted"
    assert command.response["configurationKey"][0]["value"] == "***"
    key = await database_sync_to_async(ConfigurationKey.objects.get)(key="AuthorizationKey")
    assert key.value == "***"
    assert await database_sync_to_async(database_holds)(HEX) == []
    await communicator.disconnect()
