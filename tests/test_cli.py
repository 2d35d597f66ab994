from niftycnn.cli import main


def test_data_check_synthetic_exits_zero(capsys):
    assert main(["data", "check", "--source", "synthetic"]) == 0
