package dev.perceiver.model;

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

    ImagePreprocessor(Weights w, Spec spec) {
        this.spec = spec;
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
            this.convnet = w.backend().kernels().packTransposed(weight, w.arena());
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
        Features f = switch (spec.prepType()) {
            case CONV -> conv(run, x, inputName);
            case CONV1X1 -> conv1x1(run, x, inputName);
            case PIXELS -> pixels(run, x, inputName);
            case PATCHES -> patches(run, x, inputName);
        };
        Matrix pos = positionEmbeddings.forGrid(run, f.indexDims(), inputName);
        return ModalityPreprocessor.withPositions(run, f.values(), pos, spec.concatPos(), inputName,
                List.of(spec.prepType(), Arrays.stream(f.indexDims()).boxed().toList()));
    }

    /** Channels-last features flattened to [B, N, C] and the grid they came from. */
    private record Features(Tensor values, int[] indexDims) {}

    private void requireChannels(Tensor x, int channelDim, String inputName) {
        if (x.dim(channelDim) != spec.inChannels())
            throw new InvalidInputException(inputName + " has " + x.dim(channelDim) + " channels, the model takes "
                    + spec.inChannels() + " (shape " + Arrays.toString(x.shape()) + ")");
    }

    private Features conv(Run run, Tensor x, String inputName) {
        ModalityPreprocessor.requireRank(x, inputName, "[batch, channels, height, width]", 4);
        requireChannels(x, 1, inputName);
        int batch = x.dim(0), h = x.dim(2), w = x.dim(3), c = spec.outChannels();
        int pad = (CONV_KERNEL - 1) / 2, padAfter = CONV_KERNEL / 2;
        int ch = (h + pad + padAfter - CONV_KERNEL) / CONV_STRIDE + 1, cw = (w + pad + padAfter - CONV_KERNEL) / CONV_STRIDE + 1;
        if (ch < POOL_KERNEL || cw < POOL_KERNEL)
            throw new InvalidInputException(inputName + " of " + h + "x" + w + " pixels is too small for the conv "
                    + "preprocessor (needs at least " + (2 * POOL_KERNEL - 1) + "x" + (2 * POOL_KERNEL - 1) + ")");
        int ph = (ch - POOL_KERNEL) / POOL_STRIDE + 1, pw = (cw - POOL_KERNEL) / POOL_STRIDE + 1;
        Tensor out = run.tensor(batch, ph * pw, c);
        for (int b = 0; b < batch; b++) {
            long mark = run.scratch().mark();
            Matrix image = x.select(0, b).copy(run.scratch()).reshape(spec.inChannels(), h * w).matrix();
            Matrix conv = run.matrix(ch * cw, c);
            run.countFlops(2L * ch * cw * c * spec.inChannels() * CONV_KERNEL * CONV_KERNEL);
            run.kernels().conv2d(run.parallel(), image, h, w, convnet, CONV_KERNEL, CONV_KERNEL, CONV_STRIDE, pad, pad,
                    padAfter, padAfter, Epilogue.NONE, conv, run.scratch());
            if (batchnormScale != null)
                run.kernels().scaleShift(run.parallel(), conv, batchnormScale, batchnormShift, Activation.RELU);
            else
                run.kernels().activation(run.parallel(), conv, Activation.RELU);
            run.kernels().maxPool2d(run.parallel(), conv, ch, cw, POOL_KERNEL, POOL_STRIDE, out.select(0, b).matrix());
            run.scratch().release(mark);
        }
        return new Features(out, new int[] {ph, pw});
    }

    private Features conv1x1(Run run, Tensor x, String inputName) {
        ModalityPreprocessor.requireRank(x, inputName, "[batch, channels, height, width]", 4);
        requireChannels(x, 1, inputName);
        int sd = spec.spatialDownsample();
        Tensor strided = channelsLast(run, x, sd);
        int oh = strided.dim(1), ow = strided.dim(2);
        Matrix pixels = strided.reshape(-1, spec.inChannels()).matrix();
        Tensor out = run.tensor(x.dim(0), oh * ow, spec.outChannels());
        convnet1x1.apply(run, pixels, out.matrix());
        return new Features(out, new int[] {oh, ow});
    }

    private Features pixels(Run run, Tensor x, String inputName) {
        ModalityPreprocessor.requireRank(x, inputName, "[batch, channels, height, width] or [batch, time, channels, "
                + "height, width]", 4, 5);
        requireChannels(x, x.rank() - 3, inputName);
        Tensor v;
        if (x.rank() == 4) {
            // The reference slices batch and channel axes here when spatial_downsample > 1 (a bug): refuse instead.
            if (spec.spatialDownsample() != 1)
                throw new IllegalArgumentException(name + ": pixels preprocessing of 4-D input with spatial_downsample "
                        + spec.spatialDownsample() + " is not supported (the reference subsamples the wrong axes)");
            v = channelsLast(run, x, 1);
        } else {
            v = channelsLastVideo(run, x, spec.temporalDownsample(), spec.spatialDownsample());
        }
        int[] shape = v.shape();
        int[] index = Arrays.copyOfRange(shape, 1, shape.length - 1);
        return new Features(v.reshape(shape[0], -1, shape[shape.length - 1]), index);
    }

    private Features patches(Run run, Tensor x, String inputName) {
        ModalityPreprocessor.requireRank(x, inputName, "[batch, channels, height, width] or [batch, time, channels, "
                + "height, width]", 4, 5);
        int sd = spec.spatialDownsample(), td = x.rank() == 5 ? spec.temporalDownsample() : 1;
        int h = x.dim(-2), w = x.dim(-1), t = x.rank() == 5 ? x.dim(1) : 1;
        if (h % sd != 0 || w % sd != 0 || t % td != 0)
            throw new InvalidInputException(inputName + " of shape " + Arrays.toString(x.shape()) + " does not split into "
                    + (x.rank() == 5 ? td + "-frame, " : "") + sd + "x" + sd + " patches");
        Tensor s2d = spaceToDepth(run, x, td, sd);
        int[] shape = s2d.shape();
        // A single time step is squeezed away (optical flow: two frames become one 54-channel image).
        if (shape.length == 5 && shape[1] == 1) shape = new int[] {shape[0], shape[2], shape[3], shape[4]};
        int c = shape[shape.length - 1];
        int[] index = Arrays.copyOfRange(shape, 1, shape.length - 1);
        Tensor flat = s2d.reshape(shape[0], -1, c);
        if (convAfterPatches != null) {
            if (c != convAfterPatches.in())
                throw new InvalidInputException(inputName + " gives " + c + " channels per patch, conv_after_patches takes "
                        + convAfterPatches.in() + " (shape " + Arrays.toString(x.shape()) + ")");
            Tensor projected = run.tensor(shape[0], flat.dim(1), convAfterPatches.out());
            convAfterPatches.apply(run, flat.matrix(), projected.matrix());
            flat = projected;
        }
        return new Features(flat, index);
    }

    /** [B, C, H, W] → [B, H', W', C], keeping every sd-th row and column. */
    private static Tensor channelsLast(Run run, Tensor x, int sd) {
        int batch = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        int oh = (h + sd - 1) / sd, ow = (w + sd - 1) / sd;
        Tensor out = run.tensor(batch, oh, ow, c);
        Tensor src = x.isContiguous() ? x : x.copy(run.scratch());
        Matrix in = src.reshape(batch * c, h * w).matrix(), o = out.reshape(-1, c).matrix();
        for (int b = 0; b < batch; b++)
            for (int y = 0; y < oh; y++)
                for (int xx = 0; xx < ow; xx++) {
                    int row = (b * oh + y) * ow + xx;
                    for (int ch = 0; ch < c; ch++) o.set(row, ch, in.get(b * c + ch, y * sd * w + xx * sd));
                }
        return out;
    }

    /** [B, T, C, H, W] → [B, T', H', W', C], keeping every td-th frame and sd-th row and column. */
    private static Tensor channelsLastVideo(Run run, Tensor x, int td, int sd) {
        int batch = x.dim(0), t = x.dim(1);
        int ot = (t + td - 1) / td;
        Tensor out = null;
        for (int b = 0; b < batch; b++)
            for (int f = 0; f < ot; f++) {
                Tensor frame = channelsLast(run, x.select(0, b).select(0, f * td).reshape(1, x.dim(2), x.dim(3), x.dim(4)), sd);
                if (out == null) out = run.tensor(batch, ot, frame.dim(1), frame.dim(2), frame.dim(3));
                out.select(0, b).select(0, f).copyFrom(frame.select(0, 0));
            }
        return out;
    }

    /**
     * transformers' space_to_depth: [B, C, H, W] → [B, H/s, W/s, s·s·C] with channel (dh·s + dw)·C + c, and
     * [B, T, C, H, W] → [B, T/t, H/s, W/s, t·s·s·C] with channel ((dt·s + dh)·s + dw)·C + c.
     */
    static Tensor spaceToDepth(Run run, Tensor x, int td, int sd) {
        boolean video = x.rank() == 5;
        int batch = x.dim(0), t = video ? x.dim(1) : 1, c = x.dim(-3), h = x.dim(-2), w = x.dim(-1);
        int ot = t / td, oh = h / sd, ow = w / sd, oc = td * sd * sd * c;
        Tensor src = x.isContiguous() ? x : x.copy(run.scratch());
        Matrix in = src.reshape(batch * t * c, h * w).matrix();
        Tensor out = video ? run.tensor(batch, ot, oh, ow, oc) : run.tensor(batch, oh, ow, oc);
        Matrix o = out.reshape(-1, oc).matrix();
        for (int b = 0; b < batch; b++)
            for (int ti = 0; ti < ot; ti++)
                for (int y = 0; y < oh; y++)
                    for (int xx = 0; xx < ow; xx++) {
                        int row = ((b * ot + ti) * oh + y) * ow + xx, col = 0;
                        for (int dt = 0; dt < td; dt++)
                            for (int dy = 0; dy < sd; dy++)
                                for (int dx = 0; dx < sd; dx++)
                                    for (int ch = 0; ch < c; ch++, col++)
                                        o.set(row, col, in.get((b * t + ti * td + dt) * c + ch, (y * sd + dy) * w + xx * sd + dx));
                    }
        return out;
    }
}
