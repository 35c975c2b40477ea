package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.SegmentAllocator;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * PerceiverForOpticalFlow: two frames of 3x3 patches [B, 2, 27, H, W] at the config's train_size through the
 * patches preprocessor ({@code perceiver.input_preprocessor}), a decoder with one Fourier query per pixel
 * ({@code perceiver.decoder.decoder}), flow [B, H, W, 2] divided by the reference's rescale factor 100. No loss.
 */
final class OpticalFlowHead implements TaskHead {
    static final Task TASK = Task.FLOW;
    /** The reference's PerceiverOpticalFlowDecoder rescale_factor. */
    private static final float RESCALE_FACTOR = 100f;

    private final Head head;
    private final int[] trainSize;
    private final ImagePreprocessor preprocessor;
    private final BasicDecoder decoder;

    OpticalFlowHead(Head head, Weights root, PerceiverConfig config, Activation act) {
        this.head = head;
        if (config.trainSize().size() != 2)
            throw new IllegalArgumentException("train_size must be [height, width], got " + config.trainSize());
        this.trainSize = new int[] {config.trainSize().get(0), config.trainSize().get(1)};
        Weights p = root.at("perceiver");
        // Kept whole: the decoder's queries are the preprocessed input itself.
        this.preprocessor = new ImagePreprocessor(p.at("input_preprocessor"),
                ImagePreprocessor.Spec.of(ImagePreprocessor.PrepType.PATCHES).downsample(1, 2).convAfterPatching(54)
                        .fourier(new FourierPositionEncoding(64, trainSize, true, false)), true);
        this.decoder = new BasicDecoder(p.at("decoder").at("decoder"), config,
                BasicDecoder.Spec.of(2, null, preprocessor.numChannels()).attention(null, null, 1, false)
                        .fourier(new FourierPositionEncoding(64, trainSize, true, false)), act);
    }

    /** One batch of random tiles of train_size: two frames of 3x3 patches, 27 channels a pixel. */
    static PerceiverInputs sample(PerceiverConfig c, int batch, SegmentAllocator alloc, SplittableRandom rnd) {
        return PerceiverInputs.of(SampleInputs.normal(alloc, rnd, batch, 2, 27, c.trainSize().get(0), c.trainSize().get(1)));
    }

    @Override
    public int kvDim() {
        return preprocessor.numChannels();
    }

    @Override
    public void check(PerceiverInputs in) {
        TaskHead.refuseLabels(head, in);
        TaskHead.refuseSubsamplingAndInterpolation(head, in, "");
    }

    @Override
    public Preprocessed preprocess(Run run, PerceiverInputs in) {
        Tensor x = TaskHead.floatInputs(head, in, "[batch, 2, 27, height, width]");
        if (x.rank() != 5 || x.dim(1) != 2 || x.dim(2) != 27 || x.dim(3) != trainSize[0] || x.dim(4) != trainSize[1])
            throw new InvalidInputException("inputs must be [batch, 2, 27, " + trainSize[0] + ", " + trainSize[1]
                    + "] (two frames of 3x3 patches at the model's train_size), got " + Arrays.toString(x.shape()));
        return preprocessor.apply(run, run.shared(x), "inputs", false);
    }

    /** Its decoder is half a pass (one query per pixel): decoded at load, it would add ~4 s to save a fraction of that. */
    @Override
    public boolean decodesAtLoad() {
        return false;
    }

    @Override
    public Map<String, Tensor> decode(Run run, Preprocessed pre, Tensor z, PerceiverInputs in) {
        Tensor flow = run.stage("decoder", () -> decoder.forward(run, pre.input().tensor(run), z));
        return run.stage("postprocess", () -> {
            Tensor out = run.result(z.dim(0), trainSize[0], trainSize[1], 2);
            Matrix src = flow.matrix(), dst = out.reshape(-1, 2).matrix();
            for (int r = 0; r < src.rows(); r++)
                for (int c = 0; c < 2; c++) dst.set(r, c, src.get(r, c) / RESCALE_FACTOR);
            return Map.of("", out);
        });
    }
}
