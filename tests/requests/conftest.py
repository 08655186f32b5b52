import pytest


@pytest.fixture
def stored_files(private_media):
    """The files written in the private folder so far, as paths relative to it."""

    def listing():
        return sorted(
            path.relative_to(private_media).as_posix() for path in private_media.rglob("*") if path.is_file()
        )

    return listing
