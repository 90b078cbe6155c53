"""How a video activity's URL is shown on the journey page: embedded, in a player, or a link."""

from __future__ import annotations

import pytest

from leadsite.journeys.lead_activity_config import Video, video

YT = "https://www.youtube-nocookie.com"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=10",
            Video("embed", f"{YT}/embed/dQw4w9WgXcQ", YT),
        ),
        ("https://youtu.be/dQw4w9WgXcQ", Video("embed", f"{YT}/embed/dQw4w9WgXcQ", YT)),
        ("https://m.youtube.com/embed/dQw4w9WgXcQ", Video("embed", f"{YT}/embed/dQw4w9WgXcQ", YT)),
        (
            "https://vimeo.com/76979871",
            Video("embed", "https://player.vimeo.com/video/76979871", "https://player.vimeo.com"),
        ),
        (
            "https://cdn.example.com/intro.MP4",
            Video("file", "https://cdn.example.com/intro.MP4", "https://cdn.example.com"),
        ),
        (
            "https://www.youtube.com/watch?v=<script>",
            Video("link", "https://www.youtube.com/watch?v=<script>", "https://www.youtube.com"),
        ),
        ("http://videos.example/a.mp4", None),
        ("javascript:alert(1)", None),
        (None, None),
    ],
)
def test_a_video_url_is_embedded_played_or_linked(url, shown):
    assert video(url) == shown
