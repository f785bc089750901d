from __future__ import annotations

import pytest
from kedro.io import DatasetError

from disc_grade.datasets import DicomTreeDataset


def test_save_then_load_lists_files(tmp_path):
    ds = DicomTreeDataset(str(tmp_path / "tree"))
    ds.save([("1/2/1.dcm", b"a"), ("1/2/2.dcm", b"b")])
    assert ds.load().files() == ["1/2/1.dcm", "1/2/2.dcm"]
    ds.save([("3/4/1.dcm", b"c")])  # a phantom tree is replaced whole
    assert ds.load().files() == ["3/4/1.dcm"]


def test_refuses_to_overwrite_a_tree_it_did_not_write(tmp_path):
    (tmp_path / "real" / "1").mkdir(parents=True)
    (tmp_path / "real" / "1" / "x.dcm").write_bytes(b"real")
    with pytest.raises(DatasetError, match="refusing to write the phantom"):
        DicomTreeDataset(str(tmp_path / "real")).save([("1/2/1.dcm", b"a")])
    assert (tmp_path / "real" / "1" / "x.dcm").read_bytes() == b"real"


def test_missing_folder_says_how_to_make_data(tmp_path):
    with pytest.raises(DatasetError, match="kedro run --pipelines=phantom"):
        DicomTreeDataset(str(tmp_path / "absent")).load()


def test_missing_inference_folder_names_the_parameter(tmp_path):
    from kedro.config import OmegaConfigLoader

    from tests.conftest import PROJECT_ROOT

    catalog = OmegaConfigLoader(
        str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="local"
    )["catalog"]
    entry = catalog["inference_images"]
    ds = DicomTreeDataset(str(tmp_path / "absent"), missing_hint=entry["missing_hint"])
    with pytest.raises(DatasetError, match="input_root") as caught:
        ds.load()
    assert "--params=input_root=" in str(caught.value) and "phantom" not in str(caught.value)
