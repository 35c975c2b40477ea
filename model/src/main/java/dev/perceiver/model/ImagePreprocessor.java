package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Epilogue;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.PackedMatrix;
import dev.perceiver.runtime.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * transformers' PerceiverImagePreprocessor for images [B, C, H, W] and videos [B, T, C, H, W] (channels first):
 * features by {@code conv} (7x7/2 conv, batch norm, ReLU, 3x3/2 max pool), {@code conv1x1}, {@code pixels} or
 * {@code patches} (space-to-depth, then {@code conv_after_patches}), flattened channels-last, then positions.
 */
final class ImagePreprocessor implements ModalityPreprocessor {

    enum PrepType { CONV, CONV1X1, PIXELS, PATCHES }

    /** The constructor arguments of the reference class that the heads set. */
    record Spec(PrepType prepType, int spatialDownsample, int temporalDownsample, int inChannels, int outChannels,
                boolean convAfterPatching, int convAfterPatchingInChannels, boolean conv2dUseBatchnorm,
                boolean concatPos, int projectPosDim, int trainableChannels, int trainablePositions,
                FourierPositionEncoding fourier) {

        static Spec of(PrepType type) {
            return new Spec(type, 4, 1, 3, 64, false, 54, true, true, -1, 0, 0, null);
        }

        Spec downsample(int spatial, int temporal) {
            return new Spec(prepType, spatial, temporal, inChannels, outChannels, convAfterPatching,
                    convAfterPatchingInChannels, conv2dUseBatchnorm, concatPos, projectPosDim, trainableChannels,
                    trainablePositions, fourier);
        }

        Spec outChannels(int out) {
            return new Spec(prepType, spatialDownsample, temporalDownsample, inChannels, out, convAfterPatching,
                    convAfterPatchingInChannels, conv2dUseBatchnorm, concatPos, projectPosDim, trainableChannels,
                    trainablePositions, fourier);
        }

        Spec convAfterPatching(int inChannelsOfConv) {
            return new Spec(prepType, spatialDownsample, temporalDownsample, inChannels, outChannels, true,
                    inChannelsOfConv, conv2dUseBatchnorm, concatPos, projectPosDim, trainableChannels,
                    trainablePositions, fourier);
        }

        Spec trainable(int channels, int positions, int projectPosDim) {
            return new Spec(prepType, spatialDownsample, temporalDownsample, inChannels, outChannels, convAfterPatching,
                    convAfterPatchingInChannels, conv2dUseBatchnorm, concatPos, projectPosDim, channels, positions, null);
        }

        Spec fourier(FourierPositionEncoding f) {
            return new Spec(prepType, spatialDownsample, temporalDownsample, inChannels, outChannels, convAfterPatching,
                    convAfterPatchingInChannels, conv2dUseBatchnorm, concatPos, projectPosDim, 0, 0, f);
        }
    }

    private static final int CONV_KERNEL = 7, CONV_STRIDE = 2, POOL_KERNEL = 3, POOL_STRIDE = 2;

    private final Spec spec;
    private final String name;
    // convnet (prep "conv"): conv weight packed [64, 3·7·7]; batchnorm folded into scale and shift
    private final PackedMatrix convnet;
    private final Matrix batchnormScale;
    private final Matrix batchnormShift;
    private final Linear convnet1x1;
    private final Linear convAfterPatches;
    private final PositionEncoding positionEmbeddings;
    private final boolean wholeInput;

    ImagePreprocessor(Weights w, Spec spec) {
        this(w, spec, false);
    }

    /** With wholeInput, the output keeps every channel even where the layout knows the fixed ones (see withPositions). */
    ImagePreprocessor(Weights w, Spec spec, boolean wholeInput) {
        this.spec = spec;
        this.wholeInput = wholeInput;
        this.name = w.name("").replaceAll("\\.$", "");
        int sd = spec.spatialDownsample(), td = spec.temporalDownsample();
        if (sd < 1 || td < 1) throw new IllegalArgumentException(name + ": downsampling factors must be positive");
        if (spec.prepType() == PrepType.CONV) {
            if (Math.round(Math.log(sd) / Math.log(4)) != Math.log(sd) / Math.log(4) || td != 1)
                throw new IllegalArgumentException(name + ": conv preprocessing needs spatial_downsample a power of 4 "
                        + "and temporal_downsample 1");
            Weights convnetW = w.at("convnet");
            Matrix weight = convnetW.at("conv").tensor("weight", spec.outChannels(), spec.inChannels(), CONV_KERNEL,
                    CONV_KERNEL).reshape(spec.outChannels(), -1).matrix();
            this.convnet = w.backend().kernels().packTransposed(weight);
            if (spec.conv2dUseBatchnorm()) {
                Weights bn = convnetW.at("batchnorm");
                int c = spec.outChannels();
                Matrix gamma = bn.row("weight", c), beta = bn.row("bias", c);
                Matrix mean = bn.row("running_mean", c), var = bn.row("running_var", c);
                bn.ignore("num_batches_tracked");
                this.batchnormScale = Tensor.zeros(w.arena(), 1, c).matrix();
                this.batchnormShift = Tensor.zeros(w.arena(), 1, c).matrix();
                // As torch's CPU batch norm in eval mode: alpha = w / sqrt(var + eps), beta = b - mean·alpha.
                for (int i = 0; i < c; i++) {
                    float alpha = (float) (gamma.get(0, i) / Math.sqrt(var.get(0, i) + PerceiverConfig.LAYER_NORM_EPS));
                    batchnormScale.set(0, i, alpha);
                    batchnormShift.set(0, i, beta.get(0, i) - mean.get(0, i) * alpha);
                }
            } else {
                this.batchnormScale = null;
                this.batchnormShift = null;
            }
        } else {
            this.convnet = null;
            this.batchnormScale = null;
            this.batchnormShift = null;
        }
        if (spec.prepType() == PrepType.CONV1X1) {
            if (td != 1) throw new IllegalArgumentException(name + ": conv1x1 preprocessing needs temporal_downsample 1");
            this.convnet1x1 = w.linear("convnet_1x1", spec.inChannels(), spec.outChannels(), spec.outChannels(),
                    spec.inChannels(), 1, 1);
        } else {
            this.convnet1x1 = null;
        }
        this.convAfterPatches = spec.convAfterPatching()
                ? w.linear("conv_after_patches", spec.convAfterPatchingInChannels(), spec.outChannels()) : null;
        int rawPosSize = spec.fourier() != null ? spec.fourier().outputSize() : spec.trainableChannels();
        Linear projection = spec.projectPosDim() > 0
                ? w.linear("positions_projection", spec.outChannels(), spec.projectPosDim()) : null;
        if (projection != null && rawPosSize != spec.outChannels())
            throw new IllegalArgumentException(name + ": positions_projection takes out_channels " + spec.outChannels()
                    + " inputs but the position encoding has " + rawPosSize + " channels");
        this.positionEmbeddings = spec.fourier() != null
                ? PositionEncoding.fourier(spec.fourier(), projection)
                : PositionEncoding.trainable(w.at("position_embeddings"), spec.trainablePositions(),
                        spec.trainableChannels(), projection);
    }

    @Override
    public int numChannels() {
        int posDim = positionEmbeddings.outputSize();
        if (!spec.concatPos()) return posDim;
        boolean temporal = spec.fourier() != null && spec.fourier().dims() > 2;
        int sd = spec.spatialDownsample(), td = spec.temporalDownsample();
        int inpDim = switch (spec.prepType()) {
            case CONV, CONV1X1 -> spec.outChannels();
            case PATCHES -> spec.convAfterPatching() ? spec.outChannels()
                    : spec.inChannels() * sd * sd * (temporal ? td : 1);
            case PIXELS -> temporal ? spec.inChannels() : (spec.inChannels() + sd - 1) / sd;
        };
        return inpDim + posDim;
    }

    @Override
    public Preprocessed apply(Run run, Tensor x, String inputName) {
        return apply(run, x, inputName, false);
    }

    /** Whether interpolate_pos_encoding changes anything here: a trainable table over a 2-D image grid. */
    boolean hasTrainableImagePositions() {
        return positionEmbeddings.isTrainable();
    }

    @Override
    public Preprocessed apply(Run run, Tensor x, String inputName, boolean interpolatePosEncoding) {
        Grid g = grid(x, inputName);
        boolean interpolate = interpolatePosEncoding && positionEmbeddings.isTrainable();
        PositionEncoding.Positions pos = positionEmbeddings.forGrid(run, g.indexDims(), inputName, interpolate);
        if (run.outputPositionEmbeddings && positionEmbeddings.isTrainable()) run.positionEmbeddings = pos.raw();
        // The layout key names the positions: an interpolated table differs from the trained one on the same grid.
        return ModalityPreprocessor.withPositions(run, x.dim(0), g.tokens(), g.channels(), pos,
                spec.concatPos(), wholeInput, inputName, List.of(spec.prepType(),
                        Arrays.stream(g.indexDims()).boxed().toList(), interpolate), dest -> writeFeatures(run, x, g, dest));
    }

    /** The grid of tokens the features of an input form, and the channels of each. */
    private record Grid(int[] indexDims, int channels) {
        int tokens() {
            return Math.toIntExact(Arrays.stream(indexDims).asLongStream().reduce(1, Math::multiplyExact));
        }
    }

    /** Checks x is something this preprocessor takes and returns the grid of its features, before any work. */
    private Grid grid(Tensor x, String inputName) {
        int sd = spec.spatialDownsample();
        switch (spec.prepType()) {
            case CONV -> {
                ModalityPreprocessor.requireRank(x, inputName, "[batch, channels, height, width]", 4);
                requireChannels(x, 1, inputName);
                int ch = convSize(x.dim(2)), cw = convSize(x.dim(3));
                if (ch < POOL_KERNEL || cw < POOL_KERNEL)
                    throw new InvalidInputException(inputName + " of " + x.dim(2) + "x" + x.dim(3) + " (height x width) pixels"
                            + " is too small for the conv preprocessor: its " + CONV_KERNEL + "x" + CONV_KERNEL + "/"
                            + CONV_STRIDE + " conv and " + POOL_KERNEL + "x" + POOL_KERNEL + "/" + POOL_STRIDE
                            + " max pool need at least " + (2 * POOL_KERNEL - 1) + "x" + (2 * POOL_KERNEL - 1));
                return new Grid(new int[] {poolSize(ch), poolSize(cw)}, spec.outChannels());
            }
            case CONV1X1 -> {
                ModalityPreprocessor.requireRank(x, inputName, "[batch, channels, height, width]", 4);
                requireChannels(x, 1, inputName);
                return new Grid(new int[] {ceilDiv(x.dim(2), sd), ceilDiv(x.dim(3), sd)}, spec.outChannels());
            }
            case PIXELS -> {
                ModalityPreprocessor.requireRank(x, inputName, "[batch, channels, height, width] or [batch, time, "
                        + "channels, height, width]", 4, 5);
                requireChannels(x, x.rank() - 3, inputName);
                // The reference slices batch and channel axes here when spatial_downsample > 1 (a bug): refuse instead.
                if (x.rank() == 4 && sd != 1)
                    throw new IllegalArgumentException(name + ": pixels preprocessing of 4-D input with spatial_downsample "
                            + sd + " is not supported (the reference subsamples the wrong axes)");
                int[] space = {ceilDiv(x.dim(-2), sd), ceilDiv(x.dim(-1), sd)};
                return new Grid(x.rank() == 4 ? space
                        : new int[] {ceilDiv(x.dim(1), spec.temporalDownsample()), space[0], space[1]}, spec.inChannels());
            }
            case PATCHES -> {
                ModalityPreprocessor.requireRank(x, inputName, "[batch, channels, height, width] or [batch, time, "
                        + "channels, height, width]", 4, 5);
                int td = x.rank() == 5 ? spec.temporalDownsample() : 1, t = x.rank() == 5 ? x.dim(1) : 1;
                int h = x.dim(-2), w = x.dim(-1), c = td * sd * sd * x.dim(-3);
                if (h % sd != 0 || w % sd != 0 || t % td != 0)
                    throw new InvalidInputException(inputName + " of shape " + Arrays.toString(x.shape())
                            + " does not split into " + (x.rank() == 5 ? td + "-frame, " : "") + sd + "x" + sd + " patches");
                if (convAfterPatches != null && c != convAfterPatches.in())
                    throw new InvalidInputException(inputName + " gives " + c + " channels per patch, conv_after_patches "
                            + "takes " + convAfterPatches.in() + " (shape " + Arrays.toString(x.shape()) + ")");
                // A single time step is squeezed away (optical flow: two frames become one 54-channel image).
                int[] dims = x.rank() == 5 && t / td != 1 ? new int[] {t / td, h / sd, w / sd} : new int[] {h / sd, w / sd};
                return new Grid(dims, convAfterPatches != null ? convAfterPatches.out() : c);
            }
        }
        throw new IllegalStateException(spec.prepType().toString());
    }

    private static int convSize(int n) {
        return (n + (CONV_KERNEL - 1) / 2 + CONV_KERNEL / 2 - CONV_KERNEL) / CONV_STRIDE + 1;
    }

    private static int poolSize(int n) {
        return (n - POOL_KERNEL) / POOL_STRIDE + 1;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private void requireChannels(Tensor x, int channelDim, String inputName) {
        if (x.dim(channelDim) != spec.inChannels())
            throw new InvalidInputException(inputName + " has " + x.dim(channelDim) + " channels, the model takes "
                    + spec.inChannels() + " (shape " + Arrays.toString(x.shape()) + ")");
    }

    /** The features of x, channels-last, into dest ([B·N, channels]); temporaries come from scratch. */
    private void writeFeatures(Run run, Tensor input, Grid g, Matrix dest) {
        Tensor x = input.isContiguous() ? input : input.copy(run.scratch());
        int batch = x.dim(0), n = g.tokens(), sd = spec.spatialDownsample();
        switch (spec.prepType()) {
            case CONV -> {
                int h = x.dim(2), w = x.dim(3), ch = convSize(h), cw = convSize(w), c = spec.outChannels();
                int pad = (CONV_KERNEL - 1) / 2, padAfter = CONV_KERNEL / 2;
                for (int b = 0; b < batch; b++) {
                    long mark = run.scratch().mark();
                    Matrix image = x.select(0, b).reshape(spec.inChannels(), h * w).matrix();
                    Matrix conv = run.matrix(ch * cw, c);
                    run.countFlops(2L * ch * cw * c * spec.inChannels() * CONV_KERNEL * CONV_KERNEL);
                    long t0 = run.beginSpan();
                    run.kernels().conv2d(run.parallel(), image, h, w, convnet, CONV_KERNEL, CONV_KERNEL, CONV_STRIDE, pad,
                            pad, padAfter, padAfter, Epilogue.NONE, conv, run.scratch());
                    if (run.traced())
                        run.endSpan(TraceEvent.KERNEL, "conv2d", t0, Run.args("height", h, "width", w, "channels", c));
                    if (batchnormScale != null)
                        run.kernels().scaleShift(run.parallel(), conv, batchnormScale, batchnormShift, Activation.RELU);
                    else
                        run.kernels().activation(run.parallel(), conv, Activation.RELU);
                    run.kernels().maxPool2d(run.parallel(), conv, ch, cw, POOL_KERNEL, POOL_STRIDE, dest.rows(b * n, (b + 1) * n));
                    run.scratch().release(mark);
                }
            }
            case CONV1X1 -> {
                Matrix pixels = run.matrix(batch * n, spec.inChannels());
                channelsLast(x, sd, pixels);
                convnet1x1.apply(run, pixels, dest);
            }
            case PIXELS -> {
                if (x.rank() == 4) {
                    channelsLast(x, 1, dest);
                    break;
                }
                int td = spec.temporalDownsample(), frames = ceilDiv(x.dim(1), td), perFrame = n / frames;
                for (int b = 0; b < batch; b++)
                    for (int f = 0; f < frames; f++) {
                        int row = (b * frames + f) * perFrame;
                        channelsLast(x.select(0, b).select(0, f * td).reshape(1, x.dim(2), x.dim(3), x.dim(4)), sd,
                                dest.rows(row, row + perFrame));
                    }
            }
            case PATCHES -> {
                int td = x.rank() == 5 ? spec.temporalDownsample() : 1;
                if (convAfterPatches == null) {
                    spaceToDepth(x, td, sd, dest);
                } else {
                    Matrix patches = run.matrix(batch * n, convAfterPatches.in());
                    spaceToDepth(x, td, sd, patches);
                    convAfterPatches.apply(run, patches, dest);
                }
            }
        }
    }

    /**
     * Contiguous [B, C, H, W] → rows of C channels (one per pixel, row-major, batch-major), keeping every sd-th row
     * and column.
     */
    private static void channelsLast(Tensor x, int sd, Matrix dest) {
        int batch = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), oh = ceilDiv(h, sd), ow = ceilDiv(w, sd);
        Matrix planes = x.reshape(batch * c * h, w).matrix();
        for (int b = 0; b < batch; b++)
            for (int ch = 0; ch < c; ch++) {
                int plane = (b * c + ch) * h;
                for (int y = 0; y < oh; y++)
                    for (int xx = 0; xx < ow; xx++)
                        dest.set((b * oh + y) * ow + xx, ch, planes.get(plane + y * sd, xx * sd));
            }
    }

    /**
     * transformers' space_to_depth into dest: [B, C, H, W] → rows of s·s·C channels (dh·s + dw)·C + c, and
     * [B, T, C, H, W] → rows of t·s·s·C channels ((dt·s + dh)·s + dw)·C + c, one row per patch, batch-major.
     * x must be contiguous.
     */
    static void spaceToDepth(Tensor x, int td, int sd, Matrix dest) {
        boolean video = x.rank() == 5;
        int batch = x.dim(0), t = video ? x.dim(1) : 1, c = x.dim(-3), h = x.dim(-2), w = x.dim(-1);
        int ot = t / td, oh = h / sd, ow = w / sd;
        Matrix planes = x.reshape(batch * t * c * h, w).matrix();
        for (int b = 0; b < batch; b++)
            for (int ti = 0; ti < ot; ti++)
                for (int dt = 0; dt < td; dt++)
                    for (int ch = 0; ch < c; ch++) {
                        int plane = ((b * t + ti * td + dt) * c + ch) * h;
                        for (int y = 0; y < oh; y++)
                            for (int xx = 0; xx < ow; xx++) {
                                int row = ((b * ot + ti) * oh + y) * ow + xx;
                                for (int dy = 0; dy < sd; dy++)
                                    for (int dx = 0; dx < sd; dx++)
                                        dest.set(row, ((dt * sd + dy) * sd + dx) * c + ch,
                                                planes.get(plane + y * sd + dy, xx * sd + dx));
                            }
                    }
    }
}
