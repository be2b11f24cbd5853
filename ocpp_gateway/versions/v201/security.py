"""Block A, security: SecurityEventNotification, into the security events staff follow."""

from channels.db import database_sync_to_async
from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from stations.models import SecurityEventKind, Severity
from stations.security import security_event_record

# The events OCPP 2.0.1 (appendix 1, security events) marks critical: someone may be attacking
# the station or its connection.
_CRITICAL = {
    "FailedToAuthenticateAtCsms",
    "CsmsFailedToAuthenticate",
    "SecurityLogWasCleared",
    "ReconfigurationOfSecurityParameters",
    "MemoryExhaustion",
    "InvalidMessages",
    "AttemptedReplayAttacks",
    "TamperDetectionActivated",
    "InvalidFirmwareSignature",
    "InvalidFirmwareSigningCertificate",
    "InvalidCsmsCertificate",
    "InvalidChargingStationCertificate",
    "InvalidTLSVersion",
    "InvalidTLSCipherSuite",
}


class SecurityHandlers:
    @on(Action.security_event_notification)
    async def on_security_event_notification(
        self, type: str, timestamp: str, tech_info: str = "", **_
    ):
        await database_sync_to_async(security_event_record)(
            kind=SecurityEventKind.STATION_REPORTED,
            severity=Severity.CRITICAL if type in _CRITICAL else Severity.INFO,
            station=self.station,
            details={"type": type, "timestamp": timestamp, "tech_info": tech_info},
        )
        return call_result.SecurityEventNotification()
