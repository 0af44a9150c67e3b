"""OpenLineage datasets name what was read without the credentials a URL may carry."""

from __future__ import annotations

from pathlib import Path

from ingest.orchestration.lineage import url_dataset


def test_an_object_store_url_keeps_bucket_and_key_and_drops_user_password_and_query():
    dataset = url_dataset("s3://AKIAKEY:s3cr3t@exports-bucket/2023-10-31/registry.csv?X-Amz-Signature=abc")
    assert (dataset.namespace, dataset.name) == ("s3://exports-bucket", "2023-10-31/registry.csv")
    text = repr(dataset)
    assert "AKIAKEY" not in text and "s3cr3t" not in text and "Signature" not in text


def test_a_server_url_keeps_host_port_and_path_only():
    dataset = url_dataset("sftp://bureau:pa55@files.example.org:2222/exports/registry.xlsx", "output")
    assert (dataset.namespace, dataset.name) == ("sftp://files.example.org:2222", "/exports/registry.xlsx")
    assert "pa55" not in repr(dataset) and "bureau" not in repr(dataset)
    assert type(dataset).__name__ == "OutputDataset"


def test_a_local_path_or_file_url_is_a_file_dataset_with_its_absolute_path(tmp_path):
    local = url_dataset(str(tmp_path / "registry.csv"))
    assert (local.namespace, local.name) == ("file", str((tmp_path / "registry.csv").resolve()))
    as_url = url_dataset(f"file://{tmp_path}/registry.csv")
    assert as_url.name == str(Path(tmp_path, "registry.csv").resolve())
