"""The ``videos`` sample service: liked videos and a video search (Service API, DESIGN §4)."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
import random
import string

from starlette.applications import Starlette

from switchroom.hub.sample.faults import Faults
from switchroom.hub.sample.feeds import TriggerFeed
from switchroom.hub.sample.service_api import Query, Trigger, no_fields, required_text, service_app

NEW_LIKED_VIDEO_INGREDIENTS = ("video_id", "title", "url", "channel", "liked_at")
MIN_RESULTS, MAX_RESULTS = 24, 48  # per search: enough that a default-sized page does not hold them all

_TOPICS = ("bikes", "sourdough", "synthesizers", "houseplants", "chess", "climbing", "espresso", "origami")
_CHANNELS = ("Maker Lane", "Slow Kitchen", "Patch Cable", "Green Corner", "Endgame Club", "Crux TV",
             "Ten Grams", "Paper Works")
_TITLES = ("{q} for beginners", "{q} in 10 minutes", "the truth about {q}", "I tried {q} for 30 days",
           "{q}: a field guide", "why {q} matters", "{q} explained", "live Q&A: {q}", "10 mistakes with {q}",
           "{q}, the hard way")
_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


def videos_app(service_key: str, faults: Faults, seed: int = 3) -> Starlette:
    """Trigger ``new_liked_video``; query ``search_videos``, the same results for the same ``q``."""

    def search_videos(fields: dict[str, Any]) -> list[dict[str, Any]]:
        topic = " ".join(fields["q"].split())
        rng = random.Random(f"{seed}:{topic.casefold()}")
        return [_video(rng, topic) for _ in range(rng.randint(MIN_RESULTS, MAX_RESULTS))]

    return service_app(
        "Videos", service_key, faults,
        queries=[Query("search_videos", _search_fields, search_videos)],
        triggers=[Trigger("new_liked_video", no_fields,
                          TriggerFeed(NEW_LIKED_VIDEO_INGREDIENTS, _liked_video, seed, spacing=timedelta(hours=3)))],
    )


def _search_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"q": required_text(fields, "q", max_length=200)}


def _liked_video(rng: random.Random, fields: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    return {**_video(rng, rng.choice(_TOPICS)), "liked_at": at.isoformat(timespec="seconds")}


def _video(rng: random.Random, topic: str) -> dict[str, Any]:
    video_id = "".join(rng.choices(_ID_ALPHABET, k=11))
    title = rng.choice(_TITLES).format(q=topic)
    return {"video_id": video_id, "title": title[:1].upper() + title[1:],
            "url": f"https://videos.example/watch?v={video_id}", "channel": rng.choice(_CHANNELS)}
