package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A preprocessor's position encoding ({@code position_embeddings}) followed by its optional
 * {@code positions_projection}. Positions do not depend on the input values, so the projected table for a grid is
 * computed once per grid shape and kept with the model (a few shapes; an evicted table is freed by the GC); unprojected
 * Fourier features are kept as their per-axis tables ({@link FourierPositionEncoding#grid}).
 */
final class PositionEncoding {
    private static final int CACHED_GRIDS = 4;

    private final Tensor trainable;
    private final FourierPositionEncoding fourier;
    private final Linear projection;
    private final Map<List<Object>, Positions> cache = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<List<Object>, Positions> e) {
            return size() > CACHED_GRIDS;
        }
    };

    private PositionEncoding(Tensor trainable, FourierPositionEncoding fourier, Linear projection) {
        this.trainable = trainable;
        this.fourier = fourier;
        this.projection = projection;
    }

    /** A trainable table [positions, numChannels]; module is the encoding's own scope (its "position_embeddings"). */
    static PositionEncoding trainable(Weights module, int positions, int numChannels, Linear projection) {
        return new PositionEncoding(module.tensor("position_embeddings", positions, numChannels), null, projection);
    }

    static PositionEncoding fourier(FourierPositionEncoding f, Linear projection) {
        return new PositionEncoding(null, f, projection);
    }

    boolean isTrainable() {
        return trainable != null;
    }

    FourierPositionEncoding fourier() {
        return fourier;
    }

    /** Width of the encoding before projection. */
    int encodingSize() {
        return trainable != null ? trainable.dim(1) : fourier.outputSize();
    }

    int outputSize() {
        return projection != null ? projection.out() : encodingSize();
    }

    /** The encoding of every point of a grid of indexDims: [prod(indexDims), outputSize()]. */
    Positions forGrid(Run run, int[] indexDims, String what) {
        return forGrid(run, indexDims, what, false);
    }

    /**
     * A grid's encoding before its projection (raw) and after it (projected; raw itself when there is none), or, for
     * unprojected Fourier features, their grid (raw and projected null).
     */
    record Positions(Matrix raw, Matrix projected, FourierPositionEncoding.Grid grid) {
        int rows() {
            return grid != null ? Math.toIntExact(grid.points()) : projected.rows();
        }

        int cols() {
            return grid != null ? grid.channels() : projected.cols();
        }

        /** The (projected) encoding into dest [rows(), cols()]. */
        void write(Matrix dest) {
            if (grid != null) grid.write(dest);
            else dest.copyFrom(projected);
        }

        /** The (projected) encoding as a table: the kept one, or one written into run's scratch memory. */
        Matrix table(Run run) {
            if (projected != null) return projected;
            Matrix t = run.matrix(rows(), cols());
            write(t);
            return t;
        }
    }

    /**
     * The encoding of every point of a grid of indexDims, before and after projection. With interpolate, a trainable
     * table is resized to the grid first (transformers 4.42–4.44's interpolate_pos_encoding, see
     * {@link BicubicResize#interpolatePositions}); Fourier features ignore it (they follow the grid anyway).
     */
    synchronized Positions forGrid(Run run, int[] indexDims, String what, boolean interpolate) {
        boolean resize = interpolate && trainable != null;
        List<Object> key = new java.util.ArrayList<>(Arrays.stream(indexDims).boxed().toList());
        if (resize) key.add("interpolated");
        Positions m = cache.get(key);
        if (m != null) {
            // The reference projects the positions on every pass; count that work although it is cached here.
            if (projection != null) run.countFlops(2L * m.projected().rows() * projection.in() * projection.out());
            return m;
        }
        if (fourier != null && fourier.dims() != indexDims.length)
            throw new InvalidInputException(what + " has " + indexDims.length + " index dimensions "
                    + Arrays.toString(indexDims) + " but the Fourier position encoding expects " + fourier.dims());
        if (fourier != null && projection == null) {
            m = new Positions(null, null, fourier.grid(indexDims));
        } else {
            int n = Math.toIntExact(Arrays.stream(indexDims).asLongStream().reduce(1, Math::multiplyExact));
            Matrix raw;
            if (resize) {
                if (indexDims.length != 2)
                    throw new InvalidInputException(what + " has " + indexDims.length + " index dimensions "
                            + Arrays.toString(indexDims) + "; interpolate_pos_encoding resizes a 2-D grid of positions");
                long values = (long) n * trainable.dim(1);
                if (values > Integer.MAX_VALUE)
                    throw new InvalidInputException(what + " of " + indexDims[0] + "x" + indexDims[1] + " positions needs "
                            + "an interpolated position table of " + values + " values, beyond what the engine can index");
                Matrix resized = Run.zeros(Arena.ofAuto(), n, trainable.dim(1)).matrix();
                BicubicResize.interpolatePositions(trainable.toArray(), trainable.dim(0), trainable.dim(1), indexDims[0],
                        indexDims[1], (row, channels) -> resized.setRow(row, channels, 0));
                raw = resized;
            } else if (trainable != null) {
                if (trainable.dim(0) != n)
                    throw new InvalidInputException(what + " gives " + n + " positions " + Arrays.toString(indexDims)
                            + " but the trainable position encoding has " + trainable.dim(0)
                            + " (the model takes inputs of exactly that many positions"
                            + (indexDims.length == 2 ? ", or any size with interpolate_pos_encoding" : "") + ")");
                raw = trainable.matrix();
            } else {
                raw = Run.zeros(Arena.ofAuto(), n, fourier.outputSize()).matrix();
                fourier.grid(indexDims).write(raw);
            }
            m = new Positions(raw, projection == null ? raw : project(run, raw), null);
        }
        cache.put(key, m);
        return m;
    }

    /** The (projected) encoding at a decoder's output points (flat indices into indexDims), in scratch memory. */
    Matrix at(Run run, int[] indexDims, long[] points) {
        Matrix raw = run.matrix(points.length, fourier.outputSize());
        outputGrid(indexDims).write(points, raw);
        return projection == null ? raw : projection.apply(run, raw);
    }

    /** A decoder's output grid, kept with the input grids (keyed apart: its positions differ). */
    private synchronized FourierPositionEncoding.Grid outputGrid(int[] indexDims) {
        List<Object> key = new java.util.ArrayList<>(Arrays.stream(indexDims).boxed().toList());
        key.add("output");
        return cache.computeIfAbsent(key, k -> new Positions(null, null, fourier.outputGrid(indexDims))).grid();
    }

    private Matrix project(Run run, Matrix raw) {
        Matrix out = Run.zeros(Arena.ofAuto(), raw.rows(), projection.out()).matrix();
        projection.apply(run, raw, out);
        return out;
    }
}
