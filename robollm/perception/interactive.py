"""Interactive perception: the evidence a sensing skill's outcome carries.

`knock`, `touch` and `weigh` gather raw streams (audio, pad contacts, wrist forces);
this module hands each to its interpreter and returns one `Evidence`. A sensing step
that failed (silence, no surface found, a grasp that slipped) gives evidence with no
reading and the step's reason, so the planner can try again or use another cue.
Interpreters load on first use: a run that never knocks never loads the sound model.
"""

from __future__ import annotations

from typing import Any

from robollm.perception.evidence import Evidence, no_reading

SENSING_SKILLS = {"knock": "sound", "touch": "touch", "weigh": "weight"}


class InteractivePerception:
    def __init__(self, sound_model: str | None = None, touch_calibration: str | None = None) -> None:
        self.sound_model, self.touch_calibration = sound_model, touch_calibration
        self._interpreters: dict[str, Any] = {}

    def interpreter(self, cue: str) -> Any:
        if cue not in self._interpreters:
            if cue == "sound":
                from robollm.perception.sound import SoundInterpreter

                self._interpreters[cue] = SoundInterpreter(self.sound_model)
            elif cue == "touch":
                from robollm.perception.touch import TouchInterpreter

                self._interpreters[cue] = TouchInterpreter(self.touch_calibration)
            else:
                from robollm.perception.weight import WeightInterpreter

                self._interpreters[cue] = WeightInterpreter()
        return self._interpreters[cue]

    def interpret(self, skill: str, success: bool, reason: str, data: dict[str, Any]) -> Evidence | None:
        """The evidence of one step of `skill` (None if the skill senses nothing)."""
        cue = SENSING_SKILLS.get(skill)
        if cue is None:
            return None
        if not success:
            return no_reading(cue, reason)
        if cue == "sound":
            return self.interpreter(cue).interpret(data.get("audio"))
        return self.interpreter(cue).interpret(data)
