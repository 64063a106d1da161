"""Socket.IO room names and the pub/sub channel of one deployment."""

from __future__ import annotations

from parley.realtime.channels import room_channel, session_channel, socketio_channel, user_channel


def test_the_channel_names_the_prefix_and_the_database() -> None:
    assert socketio_channel("redis://cache:6379/3", "parley-") == "parley-socketio:3"
    assert socketio_channel("redis://cache:6379", "p-") == "p-socketio:0"


def test_deployments_on_one_redis_server_hear_different_channels() -> None:
    one = socketio_channel("redis://cache:6379/0", "a-")
    assert one != socketio_channel("redis://cache:6379/1", "a-")
    assert one != socketio_channel("redis://cache:6379/0", "b-")


def test_room_and_session_channels() -> None:
    assert room_channel("general") == "room:general"
    assert session_channel("abc") == "session:abc"


def test_a_users_channel_is_the_same_whatever_the_case() -> None:
    assert user_channel("Ada") == user_channel("ada") == "user:ada"
