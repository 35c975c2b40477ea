package dev.perceiver.task;

import dev.perceiver.io.FlowBlender;
import dev.perceiver.io.FlowFiles;
import dev.perceiver.io.FlowInput;
import dev.perceiver.io.FlowTiling.Tile;
import dev.perceiver.io.FlowTiling;
import dev.perceiver.io.InvalidInputException;
import dev.perceiver.io.RgbImage;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Optical flow of every consecutive pair of a frame sequence, streamed. Each frame is decoded and patched once (two
 * pairs share it) and kept only while its pairs are queued: a queued tile's patches go into the batch's input at
 * once, so two frames are held at a time whatever the batch. Tiles of one or several pairs go through the model
 * {@code batch} at a time; each pair's blended flow goes to the sink, in order, as soon as its last tile is done.
 * Memory depends on the frame size and the batch, not on the number of frames.
 * <p>
 * A tile whose two crops equal those of a tile computed earlier (a still region, a repeated frame, a flat border)
 * takes that tile's flow instead of running again: the model sees nothing but the tile, so its flow is the same.
 * Tiles computed for this pair or the one before are remembered. An instance runs one sequence.
 */
public final class FlowSequence {
    /** One frame of the sequence: its file (or name) and image, or why it has none (which costs only its pairs). */
    public record Input(Path file, RgbImage image, String error) {
    }

    /** A pair's flow in pixels {@code [H, W, 2]}; tiles covered the frame, computed of them ran the model. */
    public record Flow(int index, Path from, Path to, Tensor pixels, int tiles, int computed) {
    }

    /** Where the pairs go, in order: pair index i is frames i and i + 1. */
    public interface Sink {
        /** A pair's flow; its tensor is freed when this returns. */
        void flow(Flow flow) throws IOException;

        /** Pair index failed: one of its frames gave no image (message names it). By default that stops the run. */
        default void error(int index, Path from, Path to, String message) {
            throw new InvalidInputException(message);
        }

        /** Whether to stop early (the reader of the results went away); never by default. */
        default boolean stopped() {
            return false;
        }

        /** The model has just run n more tiles (for a progress line). */
        default void ran(int n) {
        }
    }

    private final Perceiver model;
    private final int overlap;
    private final int batch;
    private final int tileHeight;
    private final int tileWidth;
    /** Planned from the first frame that decodes; null until then. */
    private List<Tile> tiles;
    private Input sizeFrom;

    private final Deque<Pair> waiting = new ArrayDeque<>();
    private final List<Job> queued = new ArrayList<>();
    private final Map<TileInput, Job> known = new HashMap<>();
    /** The next forward pass's input {@code [batch, 2, 27, h, w]}: entry i is queued job i's two tile patches. */
    private Tensor batchInput;

    /** overlap: as {@link OpticalFlow#overlap} checked it. */
    FlowSequence(Perceiver model, int overlap, int batch) {
        this.model = model;
        this.overlap = overlap;
        this.batch = batch;
        this.tileHeight = model.config().trainSize().get(0);
        this.tileWidth = model.config().trainSize().get(1);
    }

    /** The flow of each consecutive pair of frames, to sink; frames are read from the iterator as they are needed. */
    public void run(Iterator<Input> frames, Sink sink) throws IOException {
        Frame previous = null, frame = null;
        try (Arena arena = Arena.ofConfined()) {
            for (int index = 0; frames.hasNext() && !sink.stopped(); index++) {
                frame = new Frame(index, admit(frames.next()));
                if (batchInput == null && tiles != null)
                    batchInput = Tensor.zeros(arena, batch, 2, 27, tiles.getFirst().height(), tiles.getFirst().width());
                if (previous != null) {
                    addPair(previous, frame, sink);
                    previous.release();
                }
                emit(sink);
                previous = frame;
            }
            if (!sink.stopped()) {
                runQueued(sink);
                emit(sink);
            }
        } finally {
            if (previous != null) previous.release();
            if (frame != null) frame.release();
        }
    }

    /** The frame, or an error if it differs in size from the first; the first fixes the tiles. */
    private Input admit(Input in) {
        if (in.image() == null) return in;
        RgbImage image = in.image();
        if (tiles == null) {
            OpticalFlow.requireTileSize(model, in.file() + " is", image);
            tiles = new FlowTiling(tileHeight, tileWidth, overlap).plan(image.height(), image.width());
            sizeFrom = in;
        } else if (image.width() != sizeFrom.image().width() || image.height() != sizeFrom.image().height()) {
            return new Input(in.file(), null, in.file() + " is " + OpticalFlow.size(image) + " but " + sizeFrom.file()
                    + " is " + OpticalFlow.size(sizeFrom.image()) + "; all frames must have the same size");
        }
        return in;
    }

    private void addPair(Frame first, Frame second, Sink sink) {
        Pair pair = new Pair(first.index, first.input.file(), second.input.file());
        waiting.add(pair);
        if (first.input.error() != null || second.input.error() != null) {
            pair.error = first.input.error() != null ? first.input.error() : second.input.error();
            return;
        }
        pair.flows = new float[tiles.size()][];
        for (int t = 0; t < tiles.size(); t++) {
            TileInput key = new TileInput(first.crop(t), second.crop(t));
            Job job = known.get(key);
            boolean fresh = job == null;
            if (fresh) {
                job = new Job();
                known.put(key, job);
                pair.computed++;
            }
            job.lastUsed = pair.index;
            if (job.flow != null) {
                pair.flows[t] = job.flow;
            } else {
                job.waiting.add(new Waiter(pair, t));
                pair.missing++;
            }
            if (fresh) {
                Tensor entry = batchInput.select(0, queued.size());
                entry.select(0, 0).copyFrom(first.patches().select(0, t));
                entry.select(0, 1).copyFrom(second.patches().select(0, t));
                queued.add(job);
                if (queued.size() == batch) runQueued(sink);
            }
        }
        known.values().removeIf(j -> j.flow != null && j.lastUsed < pair.index - 1);
    }

    /** Tiles per pair; 0 until a frame has been read. */
    public int tiles() {
        return tiles == null ? 0 : tiles.size();
    }

    /** Runs the queued tiles as one batch and hands each flow to the pairs waiting for it. */
    private void runQueued(Sink sink) {
        if (queued.isEmpty()) return;
        try (Arena results = Arena.ofShared()) {
            Tensor flow = model.forward(PerceiverInputs.of(batchInput.slice(0, 0, queued.size())), results).logitsTensor();
            for (int i = 0; i < queued.size(); i++) {
                Job job = queued.get(i);
                job.flow = flow.select(0, i).toArray();
                for (Waiter w : job.waiting) {
                    w.pair.flows[w.tile] = job.flow;
                    w.pair.missing--;
                }
                job.waiting.clear();
            }
        }
        sink.ran(queued.size());
        queued.clear();
    }

    /** Hands finished pairs to the sink, in order. */
    private void emit(Sink sink) throws IOException {
        while (!waiting.isEmpty() && waiting.peek().missing == 0 && !sink.stopped()) {
            Pair pair = waiting.poll();
            if (pair.error != null) {
                sink.error(pair.index, pair.from, pair.to, pair.error);
                continue;
            }
            RgbImage image = sizeFrom.image();
            FlowBlender blender = new FlowBlender(image.height(), image.width());
            for (int t = 0; t < tiles.size(); t++) blender.add(tiles.get(t), pair.flows[t]);
            try (Arena arena = Arena.ofConfined()) {
                sink.flow(new Flow(pair.index, pair.from, pair.to, OpticalFlow.pixels(blender.result(arena), arena),
                        tiles.size(), pair.computed));
            }
        }
    }

    /** A frame while pairs need it: the crops of its tiles (compared between frames) and, once needed, its patches. */
    private final class Frame {
        final int index;
        final Input input;
        private final Crop[] crops;
        private Arena arena;
        private Tensor patches;

        Frame(int index, Input input) {
            this.index = index;
            this.input = input;
            this.crops = input.image() == null ? null : new Crop[tiles.size()];
        }

        Crop crop(int t) {
            if (crops[t] == null) crops[t] = Crop.of(input.image(), tiles.get(t));
            return crops[t];
        }

        /** {@code [tiles, 27, h, w]}, computed the first time a tile of this frame is queued. */
        Tensor patches() {
            if (patches == null) {
                arena = Arena.ofConfined();
                patches = FlowInput.framePatches(input.image(), tiles, arena);
            }
            return patches;
        }

        void release() {
            if (arena != null) arena.close();
            arena = null;
            patches = null;
        }
    }

    /** One tile's pixels in one frame, compared whole (the hash only sorts them). */
    private record Crop(byte[] pixels, int hash) {
        static Crop of(RgbImage image, Tile tile) {
            byte[] out = new byte[tile.height() * tile.width() * 3];
            int row = tile.width() * 3;
            for (int y = 0; y < tile.height(); y++)
                System.arraycopy(image.pixels(), ((tile.y() + y) * image.width() + tile.x()) * 3, out, y * row, row);
            return new Crop(out, Arrays.hashCode(out));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Crop c && hash == c.hash && Arrays.equals(pixels, c.pixels);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** What the model sees of one tile of a pair: the same crops give the same flow, wherever the tile lies. */
    private record TileInput(Crop first, Crop second) {
    }

    /** One tile run (or to run), and the pairs' tiles waiting for its flow. */
    private static final class Job {
        float[] flow;
        int lastUsed;
        final List<Waiter> waiting = new ArrayList<>();
    }

    private record Waiter(Pair pair, int tile) {
    }

    /** A pair on its way: its tiles' flows as they come in, or its error. */
    private static final class Pair {
        final int index;
        final Path from;
        final Path to;
        float[][] flows;
        int missing;
        int computed;
        String error;

        Pair(int index, Path from, Path to) {
            this.index = index;
            this.from = from;
            this.to = to;
        }
    }
}
