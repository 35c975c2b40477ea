package dev.perceiver.model;

import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.TensorInfo;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Backend;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Binds model parameters to checkpoint tensors by their state_dict names, checking each shape against what the
 * config implies. Names are built by {@link #at} scopes, so {@code w.at("perceiver").at("encoder").linear("query")}
 * reads {@code perceiver.encoder.query.weight} / {@code .bias}. Remembers every name it read, so tensors the model
 * does not know are reported instead of silently ignored. Without a checkpoint it makes random weights of every
 * shape asked for (seeded by name), which is all a speed benchmark at the official sizes needs.
 */
final class Weights {
    private final Checkpoint checkpoint;
    private final Backend backend;
    private final Arena arena;
    private final Set<String> used;
    private final long[] parameters;
    /** Random weights that are only needed while the model loads (they are packed or folded into tables). */
    private final Arena staging;
    private final String prefix;

    Weights(Checkpoint checkpoint, Backend backend, Arena arena) {
        this(checkpoint, backend, arena, new LinkedHashSet<>(), new long[1],
                checkpoint == null ? Arena.ofShared() : null, "");
    }

    private Weights(Checkpoint checkpoint, Backend backend, Arena arena, Set<String> used, long[] parameters,
                    Arena staging, String prefix) {
        this.checkpoint = checkpoint;
        this.backend = backend;
        this.arena = arena;
        this.used = used;
        this.parameters = parameters;
        this.staging = staging;
        this.prefix = prefix;
    }

    Weights at(String scope) {
        return new Weights(checkpoint, backend, arena, used, parameters, staging, name(scope) + ".");
    }

    /** Loading is over: frees what only loading needed. */
    void finishLoading() {
        if (staging != null) staging.close();
    }

    /** Scalars in every tensor bound so far (the state_dict's size, buffers included). */
    long parameterCount() {
        return parameters[0];
    }

    Weights at(String scope, int index) {
        return at(scope + "." + index);
    }

    String name(String local) {
        return prefix + local;
    }

    /** This scope's own name, e.g. {@code perceiver.encoder.self_attends.0}. */
    String scope() {
        return prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1);
    }

    Backend backend() {
        return backend;
    }

    /** Memory that lives as long as the model (packed weights, precomputed tables). */
    Arena arena() {
        return arena;
    }

    boolean has(String local) {
        return checkpoint != null && checkpoint.names().contains(name(local));
    }

    /** The float tensor local, which must have exactly this shape. */
    Tensor tensor(String local, int... shape) {
        String full = name(local);
        parameters[0] += Arrays.stream(shape).asLongStream().reduce(1, Math::multiplyExact);
        if (checkpoint == null) return random(full, shape, arena);
        if (!checkpoint.names().contains(full))
            throw new CheckpointException(checkpoint.path(), "missing tensor " + full + " " + Arrays.toString(shape)
                    + " that this config needs");
        TensorInfo info = checkpoint.info(full);
        if (!Arrays.equals(info.intShape(), shape))
            throw new CheckpointException(checkpoint.path(), "tensor " + full + " has shape "
                    + Arrays.toString(info.intShape()) + " but the config implies " + Arrays.toString(shape));
        used.add(full);
        return checkpoint.floats(full, arena);
    }

    /** A 1-D parameter as a 1 x n row. */
    Matrix row(String local, int n) {
        return tensor(local, n).reshape(1, n).matrix();
    }

    /** Marks a tensor the model reads but does not use (BatchNorm's num_batches_tracked). */
    void ignore(String local) {
        if (!has(local)) return;
        used.add(name(local));
        parameters[0] += checkpoint.info(name(local)).elements();
    }

    Linear linear(String local, int in, int out) {
        return linear(local, in, out, out, in);
    }

    /** A Linear whose weight is stored with another shape of out·in elements (a 1x1 convolution's [out, in, 1, 1]). */
    Linear linear(String local, int in, int out, int... weightShape) {
        Weights l = at(local);
        if (checkpoint == null) {
            // Random weights only live until they are packed, as a checkpoint's pages do (releaseResidentPages).
            Matrix weight = l.random(l.name("weight"), weightShape, staging).reshape(out, in).matrix();
            return new Linear(backend.prepareLinear(weight, l.row("bias", out), arena));
        }
        Matrix weight = l.tensor("weight", weightShape).reshape(out, in).matrix();
        Matrix bias = l.row("bias", out);
        return new Linear(backend.prepareLinear(weight, bias, arena));
    }

    /** A Linear layer's weight [out, in] and bias [1, out], as stored. */
    record Dense(Matrix weight, Matrix bias) {}

    /** Valid while the model loads: a Linear layer's stored weights, to fuse or fold into other tables. */
    Dense dense(String local, int in, int out) {
        Weights l = at(local);
        Matrix weight = checkpoint == null ? l.random(l.name("weight"), new int[] {out, in}, staging).matrix()
                : l.tensor("weight", out, in).matrix();
        return new Dense(weight, l.row("bias", out));
    }

    /**
     * Linear layers over the same input fused into one product, their outputs side by side in the order given
     * (query, key and value of a self-attention layer): one pass over the input instead of several.
     */
    Linear fuse(Dense... parts) {
        int in = parts[0].weight().cols(), total = Arrays.stream(parts).mapToInt(d -> d.weight().rows()).sum();
        try (Arena staging = Arena.ofConfined()) {
            Matrix weight = Tensor.zeros(staging, total, in).matrix();
            Matrix bias = Tensor.zeros(arena, 1, total).matrix();
            int row = 0;
            for (Dense d : parts) {
                int n = d.weight().rows();
                weight.rows(row, row + n).copyFrom(d.weight());
                bias.cols(row, row + n).copyFrom(d.bias());
                row += n;
            }
            return new Linear(backend.prepareLinear(weight, bias, arena));
        }
    }

    LayerNorm layerNorm(String local, int dim) {
        Weights l = at(local);
        return new LayerNorm(l.row("weight", dim), l.row("bias", dim));
    }

    /**
     * Small uniform values, except ones where a norm's scale or a variance belongs, so every layer stays in range.
     */
    private Tensor random(String name, int[] shape, Arena into) {
        if (into != arena) parameters[0] += Arrays.stream(shape).asLongStream().reduce(1, Math::multiplyExact);
        Tensor t = Tensor.zeros(into, shape);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(name.hashCode());
        boolean unitScale = name.endsWith("running_var") || (name.contains("layernorm") && name.endsWith("weight"));
        Matrix m = t.reshape(1, Math.toIntExact(t.size())).matrix();
        for (int i = 0; i < m.cols(); i++) {
            float u = (float) (rnd.nextDouble() * 2 - 1);
            m.set(0, i, unitScale ? 1f + 0.1f * u : 0.05f * u);
        }
        return t;
    }

    /** Fails, naming them, if the checkpoint holds tensors no part of the model read. */
    void requireAllUsed() {
        if (checkpoint == null) return;
        Set<String> extra = new TreeSet<>(checkpoint.names());
        extra.removeAll(used);
        if (!extra.isEmpty()) {
            List<String> shown = extra.stream().limit(8).toList();
            throw new CheckpointException(checkpoint.path(), extra.size() + " tensor" + (extra.size() == 1 ? "" : "s")
                    + " that this " + "model does not have: " + String.join(", ", shown)
                    + (extra.size() > shown.size() ? ", ..." : "") + " (is the config's architecture right?)");
        }
    }
}
