from leadsite.passwords import hash_password, needs_rehash, verify_password


def test_passwords_are_hashed_with_argon2id():
    hashed = hash_password("s3cret words")

    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "s3cret words")
    assert not verify_password(hashed, "S3cret words")


def test_no_hash_never_verifies():
    assert not verify_password(None, "not-a-password")
    assert not verify_password("garbage", "anything")


def test_the_app_config_sets_the_hash_parameters(app, monkeypatch):
    """The tests hash cheaply (PASSWORD_HASH_PARAMETERS); without that key the app hashes with
    argon2-cffi's defaults, and a sign-in would rehash a cheap hash at those."""
    cheap = hash_password("s3cret words")
    assert cheap.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert not needs_rehash(cheap)

    monkeypatch.setitem(app.config, "PASSWORD_HASH_PARAMETERS", None)
    assert hash_password("s3cret words").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(cheap, "s3cret words")
    assert needs_rehash(cheap)
