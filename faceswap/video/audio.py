"""The source's audio, carried into an output video in step with the frames written.

The audio is decoded, cut to the written range to the sample and encoded as AAC (which every
mp4 player plays), rather than copied packet by packet: a packet copy can only cut at packet
edges (~21 ms for AAC) and loses the encoder-delay trim, and some source codecs do not go in
mp4 at all. Sample position k of the output is source time ``start + k / rate``; gaps in the
source become silence and overlaps are dropped, so sync holds through damaged audio.
The source is read as the video is written, so memory stays flat.
"""
from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import numpy as np

from faceswap.errors import UserError

log = logging.getLogger(__name__)

AAC_BITRATE_PER_CHANNEL = 96_000
SEEK_AHEAD_SECONDS = 1.0  # seek when the range starts later than this; decoding from 0 is cheaper otherwise


class AudioTrack:
    """Writes ``source``'s audio from ``start`` seconds (relative to its first video frame, the
    clock of ``Frame.time``) up to ``end`` into ``output`` (an open PyAV output container)."""

    def __init__(self, source: str | Path, output, start: float = 0.0, end: float | None = None):
        import av

        self.source, self.start, self.end = Path(source), max(0.0, start), end
        if end is not None and end <= self.start:
            raise UserError(f"The audio range {start:.3f}-{end:.3f} s of '{self.source}' is empty; give audio_end after audio_start.")
        try:
            self._input = av.open(str(self.source), metadata_errors="ignore")
        except (av.error.FFmpegError, OSError) as error:
            raise UserError(f"Cannot read audio from '{self.source}' ({getattr(error, 'strerror', None) or error}); pass an existing video as the audio source.") from error
        self._in_stream = self._input.streams.audio[0] if self._input.streams.audio else None
        self.enabled = self._in_stream is not None
        if not self.enabled:
            self._input.close()
            return
        codec = self._in_stream.codec_context
        self.rate = codec.sample_rate or 48_000
        layout = codec.layout.name if codec.layout and codec.layout.nb_channels <= 2 else "stereo"
        self._out_stream = output.add_stream("aac", rate=self.rate, layout=layout)
        self._out_stream.bit_rate = AAC_BITRATE_PER_CHANNEL * self._out_stream.codec_context.layout.nb_channels
        self._output = output
        self._resampler = av.AudioResampler(format="fltp", layout=layout, rate=self.rate)
        self._origin = self._video_origin() + self.start  # source seconds of output sample 0
        self._written = 0  # output samples produced
        self._pending = np.zeros((self._out_stream.codec_context.layout.nb_channels, 0), np.float32)
        self._source_frames = self._decoded_source()

    def _video_origin(self) -> float:
        """Source time of the first video frame: ``start`` is measured from there."""
        if not self._input.streams.video:
            return 0.0
        video = self._input.streams.video[0]
        return float(video.start_time * video.time_base) if video.start_time is not None else 0.0

    def _decoded_source(self):
        import av

        if self._origin > SEEK_AHEAD_SECONDS:
            try:
                self._input.seek(int((self._origin - SEEK_AHEAD_SECONDS) / self._in_stream.time_base),
                                 stream=self._in_stream, backward=True)
            except av.error.FFmpegError:
                pass  # not seekable: decode from the start
        for packet in self._input.demux(self._in_stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError as error:
                log.warning("%s: skipped damaged audio (%s); silence fills the gap", self.source, error)
                continue
            for frame in frames:
                if frame.pts is None:
                    continue
                time = float(frame.pts * frame.time_base)
                for resampled in self._resampler.resample(frame):
                    yield time, resampled.to_ndarray()

    def advance_to(self, seconds: float) -> None:
        """Encode the audio for output time [0, seconds) (the video written so far)."""
        if not self.enabled:
            return
        limit = seconds if self.end is None else min(seconds, self.end - self.start)
        target = max(0, int(round(limit * self.rate)))
        while self._written + self._pending.shape[1] < target:
            chunk = next(self._source_frames, None)
            if chunk is None:
                self._pad_to(target)  # the source audio ends first: silence to the end of the video
                break
            self._place(*chunk)
        self._encode_full_frames(target)

    def _place(self, source_time: float, samples: np.ndarray) -> None:
        """Put decoded samples at their output position: pad a gap with silence, drop an overlap."""
        position = int(round((source_time - self._origin) * self.rate))
        have = self._written + self._pending.shape[1]
        if position > have:
            self._pad_to(position)
        elif position < have:
            samples = samples[:, have - position:]
        if samples.shape[1]:
            self._pending = np.concatenate([self._pending, samples.astype(np.float32, copy=False)], axis=1)

    def _pad_to(self, target: int) -> None:
        missing = target - self._written - self._pending.shape[1]
        if missing > 0:
            silence = np.zeros((self._pending.shape[0], missing), np.float32)
            self._pending = np.concatenate([self._pending, silence], axis=1)

    def _encode_full_frames(self, target: int) -> None:
        frame_size = self._out_stream.codec_context.frame_size or 1024
        usable = min(self._pending.shape[1], target - self._written)
        while usable >= frame_size:
            self._encode(self._pending[:, :frame_size])
            self._pending = self._pending[:, frame_size:]
            usable -= frame_size

    def _encode(self, samples: np.ndarray) -> None:
        import av

        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples), format="fltp",
                                           layout=self._out_stream.codec_context.layout.name)
        frame.sample_rate = self.rate
        frame.pts = self._written
        frame.time_base = Fraction(1, self.rate)
        self._written += samples.shape[1]
        for packet in self._out_stream.encode(frame):
            self._output.mux(packet)

    def finish(self, seconds: float) -> None:
        """Encode the rest up to output time ``seconds`` (the whole video) and flush."""
        if not self.enabled:
            return
        self.advance_to(seconds)
        limit = seconds if self.end is None else min(seconds, self.end - self.start)
        tail = max(0, int(round(limit * self.rate)) - self._written)
        if tail:
            self._encode(self._pending[:, :tail])  # the encoder takes one short last frame
        for packet in self._out_stream.encode(None):
            self._output.mux(packet)
        self.close()

    def close(self) -> None:
        if self.enabled:
            self._input.close()
            self.enabled = False
