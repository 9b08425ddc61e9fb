from sample_app.stats import summary


def test_summary_has_mean_and_std() -> None:
    assert list(summary(50).index) == ["mean", "std"]
