"""The job queue keeps an episode's two runs on one worker, and loses or repeats no job."""

from __future__ import annotations

from robollm.eval.jobs import Job
from robollm.eval.schedule import JobQueue
from robollm.eval.suites import Episode


def _jobs(episodes: int) -> list[Job]:
    return [Job(Episode(id=f"e{i}", family="f", instruction="put the red block in the green bowl",
                        success="in(red_block, green_bowl)", scene="default", seeds=[0]),
                "suite.yaml", 0, executor)
            for i in range(episodes) for executor in ("symbolic", "physics")]


def test_a_worker_takes_the_twin_of_the_run_it_finished():
    queue = JobQueue(_jobs(3))
    a, b = queue.take(), queue.take()  # two fresh workers start two different episodes
    assert (a.episode.id, b.episode.id) == ("e0", "e1")
    assert queue.take(after=b).key == ("e1", 0, "physics")
    assert queue.take(after=a).key == ("e0", 0, "physics")


def test_every_job_is_taken_once():
    jobs = _jobs(5)
    queue, taken, last = JobQueue(jobs), [], [None, None]
    while True:
        worker = len(taken) % 2
        job = queue.take(last[worker])
        if job is None:
            break
        taken.append(job)
        last[worker] = job
    assert sorted(j.key for j in taken) == sorted(j.key for j in jobs)
