"""The gateway's metrics: a labelled series looked up once still counts where prometheus-client's
own lookup would."""

from prometheus_client import REGISTRY

from ocpp_gateway.transport import metrics


def test_labelled_is_the_series_labels_gives_and_counts_there():
    def frames_in(action: str) -> float:
        value = REGISTRY.get_sample_value(
            "ocpp_frames_total", {"direction": "in", "action": action}
        )
        return value or 0.0

    before = frames_in("DataTransfer")
    series = metrics.labelled(metrics.frames, "in", "DataTransfer")
    series.inc()
    metrics.labelled(metrics.frames, "in", "DataTransfer").inc(2)

    assert series is metrics.frames.labels("in", "DataTransfer")
    assert metrics.labelled(metrics.frames, "in", "DataTransfer") is series
    assert frames_in("DataTransfer") == before + 3
