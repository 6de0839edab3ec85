"""The one storage-URL toolkit: redaction and the password split on awkward passwords."""
from __future__ import annotations

import pytest

from harness.storage import normalize_url, open_storage, redact, split_password

AWKWARD = [  # (url, password as typed)
    ("postgresql://user:p@ss@host/db", "p@ss"),
    ("postgresql://user:a:b:c@host:5432/db", "a:b:c"),
    ("postgresql://user:x/y@z@host/db", "x/y@z"),
    ("postgresql+psycopg2://bob:s3cr@t@db:5432/optuna?sslmode=require", "s3cr@t"),
]


@pytest.mark.parametrize("url,password", AWKWARD)
def test_redact_leaves_no_part_of_the_password(url: str, password: str) -> None:
    head = url.split("://")[0]
    query = url.find("?")
    tail = url[url.rfind("@", 0, query if query > 0 else len(url)):]
    assert redact(url) == f"{head}://{url.split('://')[1].split(':')[0]}:***{tail}"
    assert password not in redact(url)


@pytest.mark.parametrize("url,password", AWKWARD)
def test_split_password_moves_it_to_the_environment(url: str, password: str) -> None:
    bare, env = split_password(url)
    assert env == {"PGPASSWORD": password}
    user = url.split("://")[1].split(":")[0]
    assert bare == f"{url.split('://')[0]}://{user}{url[url.rindex('@' + url.split('@')[-1]):]}"
    assert password not in bare
    assert redact(bare) == bare  # nothing left to hide


def test_urls_without_a_password_are_unchanged() -> None:
    for url in ("postgresql://bob@db/optuna", "journal:/w/optuna.journal", "sqlite:///a/b.db",
                "http://127.0.0.1:5000"):
        assert redact(url) == url
        assert split_password(url) == (url, {})


def test_percent_encoded_password_reaches_libpq_decoded() -> None:
    assert split_password("postgresql://u:p%40ss@h/db")[1] == {"PGPASSWORD": "p@ss"}


def test_readers_do_not_create_a_missing_journal(tmp_path) -> None:
    url = normalize_url("optuna.journal", base=tmp_path)
    with pytest.raises(FileNotFoundError):
        open_storage(url, create=False)
    assert not (tmp_path / "optuna.journal").exists()
    open_storage(url)  # a writer creates it
    assert (tmp_path / "optuna.journal").exists()
