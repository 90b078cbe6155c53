from leadsite.passwords import hash_password, verify_password


def test_passwords_are_hashed_with_argon2id():
    hashed = hash_password("s3cret words")

    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "s3cret words")
    assert not verify_password(hashed, "S3cret words")


def test_no_hash_never_verifies():
    assert not verify_password(None, "not-a-password")
    assert not verify_password("garbage", "anything")
