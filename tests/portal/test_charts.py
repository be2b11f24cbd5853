"""Bar chart geometry, without a database."""

import pytest

from portal.charts import HEIGHT, MARGIN_BOTTOM, bar_chart, nice_ceiling


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (0.3, 0.5), (1, 1), (1.2, 2), (4.9, 5), (7, 10), (120, 200)]
)
def test_the_axis_top_is_a_round_value_at_or_above_the_largest_bar(value, top):
    assert nice_ceiling(value) == pytest.approx(top)


def test_bars_are_as_tall_as_their_value_on_a_shared_baseline():
    chart = bar_chart([("01/05", 5), ("02/05", 10), ("03/05", 0)])

    tallest = chart.bars[1].height
    assert chart.bars[0].height == pytest.approx(tallest / 2)
    assert chart.bars[2].height == 0
    assert {bar.y + bar.height for bar in chart.bars} == {HEIGHT - MARGIN_BOTTOM}
    assert chart.bars[0].x < chart.bars[1].x < chart.bars[2].x
    assert [tick.value for tick in chart.ticks] == [0, 2.5, 5, 7.5, 10]


def test_long_series_label_the_last_bar_and_every_few_before_it():
    chart = bar_chart([(f"{day:02d}", 1) for day in range(1, 31)])

    labelled = [bar.label for bar in chart.bars if bar.show_label]
    assert labelled[-1] == "30"
    assert len(labelled) <= 12


def test_a_chart_of_zeros_is_empty():
    assert bar_chart([("01/05", 0), ("02/05", 0)]).is_empty
    assert not bar_chart([("01/05", 0), ("02/05", 0.1)]).is_empty


def test_period_labels_end_under_their_bar_inside_the_chart():
    chart = bar_chart([(f"{day:02d}/11", 1.0) for day in range(1, 31)])
    last = chart.bars[-1]
    assert last.label_x == round(last.x + last.width, 2)
    assert all(chart.left < bar.label_x <= chart.width for bar in chart.bars)
