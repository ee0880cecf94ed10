"""Faces grouped by person from their identity descriptors, without an N x N distance matrix
(a faces folder can hold 20k faces): O(N x people) time and memory.

1. Leader clustering: each face, in turn, joins the person whose running centre is nearest if
   it lies within the describer's ``same_person_distance``, and starts a new person otherwise.
2. Refinement: every face moves to its nearest final centre and the centres are recomputed
   (``passes`` times), which undoes most of what the order of step 1 decided.

People come largest first; within a person, faces nearest the centre first, so outliers (another
person, a bad crop, a false detection) come last.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 1 << 24  # distances per block in the refinement (faces x people; 128 MB)


@dataclass(frozen=True)
class Person:
    positions: np.ndarray  # (M,) int: rows of the descriptors, nearest the centre first
    distances: np.ndarray  # (M,) float: their distances to the centre, ascending


def group_people(descriptors: np.ndarray, same_person_distance: float, passes: int = 2) -> list[Person]:
    """People among ``descriptors`` (N, dims), largest first."""
    descriptors = np.asarray(descriptors, np.float64)
    if len(descriptors) == 0:
        return []
    labels = _leaders(descriptors, same_person_distance)
    for _ in range(passes):
        labels = np.unique(_nearest(descriptors, _centres(descriptors, labels)), return_inverse=True)[1].reshape(-1)
    centres = _centres(descriptors, labels)
    distances = np.linalg.norm(descriptors - centres[labels], axis=1)
    people = []
    for label in np.unique(labels):
        positions = np.flatnonzero(labels == label)
        positions = positions[np.argsort(distances[positions], kind="stable")]
        people.append(Person(positions, distances[positions]))
    return sorted(people, key=lambda person: (-len(person.positions), int(person.positions.min())))


def _leaders(descriptors: np.ndarray, threshold: float) -> np.ndarray:
    """(N,) labels from one pass of leader clustering on distance to the running centres."""
    centres = np.zeros((16, descriptors.shape[1]))
    squared = np.zeros(16)  # |centre|^2, kept with the centres: a distance is then one dot product
    counts = np.zeros(16)
    labels = np.empty(len(descriptors), np.int64)
    people = 0
    for position, descriptor in enumerate(descriptors):
        distances = squared[:people] - 2 * centres[:people] @ descriptor + descriptor @ descriptor
        nearest = int(np.argmin(distances)) if people else -1
        if nearest < 0 or distances[nearest] >= threshold ** 2:
            if people == len(counts):
                centres, squared, counts = (np.concatenate([array, np.zeros_like(array)]) for array in (centres, squared, counts))
            nearest, people = people, people + 1
        counts[nearest] += 1
        centres[nearest] += (descriptor - centres[nearest]) / counts[nearest]  # running mean
        squared[nearest] = centres[nearest] @ centres[nearest]
        labels[position] = nearest
    return labels


def _centres(descriptors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(K, dims) mean of each label's descriptors (labels 0..K-1, none empty)."""
    count = int(labels.max()) + 1
    sums = np.zeros((count, descriptors.shape[1]))
    np.add.at(sums, labels, descriptors)
    return sums / np.bincount(labels, minlength=count)[:, None]


def _nearest(descriptors: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(N,) index of each descriptor's nearest centre, computed in blocks of BLOCK distances."""
    squared_centres = (centres ** 2).sum(axis=1)
    labels = np.empty(len(descriptors), np.int64)
    rows = max(1, BLOCK // len(centres))
    for start in range(0, len(descriptors), rows):
        block = descriptors[start:start + rows]
        labels[start:start + rows] = np.argmin(squared_centres - 2 * block @ centres.T, axis=1)
    return labels
