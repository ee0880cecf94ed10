"""--select largest follows one person instead of flipping between faces of similar size."""
from faceswap.extract.selection import FaceSelector


def box(size: float, x: float = 0.0) -> tuple[float, float, float, float]:
    return (x, 0.0, x + size, size)


def test_largest_keeps_its_person_while_sizes_are_close():
    selector = FaceSelector("largest")
    assert selector.choose([box(100), box(90, 300)], [1, 2]) == [0]
    # the other face becomes slightly larger: the chosen person stays
    assert selector.choose([box(95), box(100, 300)], [1, 2]) == [0]
    # the chosen person leaves the frame: switch to the largest one left
    assert selector.choose([box(100, 300)], [2]) == [0]
    assert selector.current_track == 2
    # person 1 comes back smaller than 0.6 of the largest area: person 2 is kept
    assert selector.choose([box(60), box(100, 300)], [1, 2]) == [1]


def test_largest_switches_when_the_other_face_is_much_larger():
    selector = FaceSelector("largest")
    assert selector.choose([box(100), box(90, 300)], [1, 2]) == [0]
    assert selector.choose([box(60), box(120, 300)], [1, 2]) == [1]


def test_all_track_and_resume_state():
    assert FaceSelector("all").choose([box(10), box(20)], [3, 4]) == [0, 1]
    assert FaceSelector("track", 4).choose([box(10), box(20)], [3, 4]) == [1]
    assert FaceSelector("largest").choose([], []) == []
    first = FaceSelector("largest")
    first.choose([box(100), box(90, 300)], [1, 2])
    resumed = FaceSelector("largest")
    resumed.restore(first.state())
    assert resumed.choose([box(95), box(100, 300)], [1, 2]) == [0]
