"""What sensing has told about each object, kept across looks at the table.

Each look at the table (perception's `observe`) is fresh: a camera does not know what
an object sounded like. The memory keeps the latest evidence per object and cue and
writes it into every new look (`ObjectInfo.material` and `.properties`), so an object
that was knocked and then moved still knows it is metal: perception re-identifies it
by name. Evidence about an object that is no longer on the table is dropped, never
used for whatever takes its place.
"""

from __future__ import annotations

from dataclasses import replace

from robollm.perception.evidence import CUES, Evidence, belief_sentence, combine
from robollm.world.state import SceneState

MATERIAL_CONFIDENCE = 0.6  # combined belief above which the object's material counts as known


class EvidenceMemory:
    def __init__(self, style: str = "beliefs") -> None:
        self.style = style
        self.evidence: dict[str, dict[str, Evidence]] = {}  # object -> cue -> latest evidence

    def add(self, obj: str, evidence: Evidence) -> None:
        """The latest reading of a cue wins; a failed reading does not erase a good one."""
        kept = self.evidence.setdefault(obj, {})
        if evidence.ok or evidence.cue not in kept or not kept[evidence.cue].ok:
            kept[evidence.cue] = evidence

    def beliefs(self, obj: str) -> dict[str, float]:
        return combine([e.beliefs for e in self.evidence.get(obj, {}).values() if e.ok])

    def annotate(self, scene: SceneState) -> SceneState:
        """`scene` with each object's evidence; forgets objects that left the table."""
        for gone in [o for o in self.evidence if o not in scene.objects]:
            del self.evidence[gone]
        objects = dict(scene.objects)
        for name, cues in self.evidence.items():
            info = objects[name]
            props = dict(info.properties)
            for cue in CUES:
                if cue in cues:
                    props[cue] = cues[cue].line(self.style)
            beliefs = self.beliefs(name)
            material = info.material
            if beliefs:
                props["material_beliefs"] = belief_sentence(beliefs)
                top, p = next(iter(beliefs.items()))
                material = top if p >= MATERIAL_CONFIDENCE else material
            objects[name] = replace(info, material=material, properties=props)
        return replace(scene, objects=objects)

    def to_json(self) -> dict:
        return {obj: {cue: e.to_json() for cue, e in cues.items()} for obj, cues in self.evidence.items()}
