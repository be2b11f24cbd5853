"""How each protocol reads and changes a station's settings, for the procedures (Autocharge
readiness, drift): OCPP 1.6 configuration keys, or OCPP 2.0.1 device-model variables read as
keys ``Component/Variable``. The decisions themselves (``stations.autocharge``) are the same."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocpp_gateway.models import Command, CommandAction
from ocpp_gateway.versions.v16 import conversions as v16
from ocpp_gateway.versions.v201 import conversions as v201
from stations.autocharge import CHANGE_NOT_SUPPORTED, ReportedKey


@dataclass(frozen=True)
class ConfigurationDialect:
    read_action: CommandAction
    change_action: CommandAction
    local_list: bool
    """Whether the local authorization list procedures serve this protocol."""

    def read_payload(self, keys: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    def reported_keys(self, response: dict[str, Any] | None) -> list[ReportedKey]:
        raise NotImplementedError

    def change_payload(self, key: str, value: str) -> dict[str, Any]:
        raise NotImplementedError

    def change_status(self, command: Command) -> str:
        """The status of one change, in ChangeConfiguration's words (``stations.autocharge``)."""
        raise NotImplementedError


class ConfigurationKeys(ConfigurationDialect):
    """OCPP 1.6: GetConfiguration and ChangeConfiguration."""

    def read_payload(self, keys: list[str]) -> dict[str, Any]:
        return {"key": keys}

    def reported_keys(self, response: dict[str, Any] | None) -> list[ReportedKey]:
        return v16.reported_keys(response)

    def change_payload(self, key: str, value: str) -> dict[str, Any]:
        return {"key": key, "value": value}

    def change_status(self, command: Command) -> str:
        return command.ocpp_status


# SetVariables' attributeStatus → ChangeConfiguration's words.
_UNSUPPORTED_VARIABLE = {"UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"}


class DeviceModelVariables(ConfigurationDialect):
    """OCPP 2.0.1: GetVariables and SetVariables, one variable per change."""

    def read_payload(self, keys: list[str]) -> dict[str, Any]:
        return {"getVariableData": [v201.variable_of_key(key) for key in keys]}

    def reported_keys(self, response: dict[str, Any] | None) -> list[ReportedKey]:
        return v201.reported_keys(response)

    def change_payload(self, key: str, value: str) -> dict[str, Any]:
        return {"setVariableData": [{"attributeValue": value, **v201.variable_of_key(key)}]}

    def change_status(self, command: Command) -> str:
        status = command.ocpp_status
        return CHANGE_NOT_SUPPORTED if status in _UNSUPPORTED_VARIABLE else status


CONFIGURATION_KEYS = ConfigurationKeys(
    read_action=CommandAction.GET_CONFIGURATION,
    change_action=CommandAction.CHANGE_CONFIGURATION,
    local_list=True,
)
DEVICE_MODEL_VARIABLES = DeviceModelVariables(
    read_action=CommandAction.GET_VARIABLES,
    change_action=CommandAction.SET_VARIABLES,
    # 2.0.1 reports the list's capacity only in a full device-model report: the list is sent
    # by command (SendLocalList) for now.
    local_list=False,
)
