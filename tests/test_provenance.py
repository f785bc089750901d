"""The phantom never writes over data it did not write; the data source is read from the data."""

from __future__ import annotations

import hashlib

import pytest

from disc_grade.provenance import (
    PHANTOM_MARKER,
    NotOurs,
    claim_for_phantom,
    describe_source,
    is_phantom,
)


def test_an_empty_or_new_folder_is_claimed_with_a_marker(tmp_path):
    claim_for_phantom(tmp_path)  # empty
    claim_for_phantom(tmp_path / "new")
    assert is_phantom(tmp_path / "new") and is_phantom(tmp_path)
    claim_for_phantom(tmp_path)  # its own folder again, now holding files: fine


def test_a_folder_of_empty_folders_is_claimed(tmp_path):
    (tmp_path / "train_images" / "1" / "2").mkdir(parents=True)  # what `make clean-data` leaves
    claim_for_phantom(tmp_path)
    assert is_phantom(tmp_path)


def test_a_folder_with_foreign_files_is_refused_and_left_alone(tmp_path):
    (tmp_path / "train.csv").write_text("study_id\n1\n")
    (tmp_path / "train_images" / "1" / "2").mkdir(parents=True)
    (tmp_path / "train_images" / "1" / "2" / "3.dcm").write_bytes(b"a user's file")
    with pytest.raises(NotOurs, match=str(tmp_path)):
        claim_for_phantom(tmp_path)
    (tmp_path / "train.csv").unlink()  # a file deep in the tree is enough to refuse
    with pytest.raises(NotOurs, match=str(tmp_path)):
        claim_for_phantom(tmp_path)
    assert not (tmp_path / PHANTOM_MARKER).exists()
    assert (tmp_path / "train_images" / "1" / "2" / "3.dcm").read_bytes() == b"a user's file"


def test_the_data_source_says_phantom_only_where_the_marker_is(tmp_path):
    real, phantom = tmp_path / "real", tmp_path / "phantom"
    real.mkdir()
    (real / "train.csv").write_bytes(b"study_id\n7\n")
    claim_for_phantom(phantom)
    (phantom / "train.csv").write_bytes(b"study_id\n8\n")
    about_real, about_phantom = describe_source(real), describe_source(phantom)
    assert not about_real["phantom"] and "not written by the phantom" in about_real["description"]
    assert about_phantom["phantom"] and "phantom cohort" in about_phantom["description"]
    assert about_real["train_csv_sha256"] == hashlib.sha256(b"study_id\n7\n").hexdigest()
