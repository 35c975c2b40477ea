package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Activation;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.SegmentAllocator;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * PerceiverForImageClassificationLearned, -Fourier and -ConvProcessing: pixels [B, 3, H, W] through the image
 * preprocessor of the architecture ({@code perceiver.input_preprocessor}), the classification decoder
 * ({@code perceiver.decoder.decoder}), logits [B, num_labels]; the classifiers' problem_type losses.
 */
final class ImageClassificationHead implements TaskHead {
    static final Task TASK = Task.CLASSIFY;

    private final Head head;
    private final PerceiverConfig config;
    private final ImagePreprocessor preprocessor;
    private final BasicDecoder decoder;

    ImageClassificationHead(Head head, Weights root, PerceiverConfig config, Activation act) {
        this.head = head;
        this.config = config;
        Weights p = root.at("perceiver");
        this.preprocessor = new ImagePreprocessor(p.at("input_preprocessor"), spec(head, config));
        this.decoder = BasicDecoder.classification(p.at("decoder").at("decoder"), config, act);
    }

    /** One batch of random 224x224 images, the size the Fourier and conv models are run at. */
    static PerceiverInputs sample(PerceiverConfig c, int batch, SegmentAllocator alloc, SplittableRandom rnd) {
        return PerceiverInputs.of(SampleInputs.normal(alloc, rnd, batch, 3, 224, 224));
    }

    /** One batch of random image_size x image_size images: one per trained position of the learned model. */
    static PerceiverInputs sampleAtImageSize(PerceiverConfig c, int batch, SegmentAllocator alloc, SplittableRandom rnd) {
        return PerceiverInputs.of(SampleInputs.normal(alloc, rnd, batch, 3, c.imageSize(), c.imageSize()));
    }

    /** The image preprocessor of each architecture (constants as in the reference's head classes). */
    private static ImagePreprocessor.Spec spec(Head head, PerceiverConfig c) {
        return switch (head) {
            case IMAGE_CLASSIFICATION_LEARNED -> ImagePreprocessor.Spec.of(ImagePreprocessor.PrepType.CONV1X1)
                    .downsample(1, 1).outChannels(256).trainable(256, c.imageSize() * c.imageSize(), 256);
            case IMAGE_CLASSIFICATION_FOURIER -> ImagePreprocessor.Spec.of(ImagePreprocessor.PrepType.PIXELS)
                    .downsample(1, 1).fourier(new FourierPositionEncoding(64, new int[] {224, 224}, true, false));
            case IMAGE_CLASSIFICATION_CONV -> ImagePreprocessor.Spec.of(ImagePreprocessor.PrepType.CONV)
                    .downsample(1, 1).fourier(new FourierPositionEncoding(64, new int[] {56, 56}, true, false));
            default -> throw new IllegalArgumentException(head.architecture() + " is not an image classifier");
        };
    }

    @Override
    public int kvDim() {
        return preprocessor.numChannels();
    }

    @Override
    public void check(PerceiverInputs in) {
        if (interpolatesPositions()) TaskHead.refuseSubsampling(in);
        else TaskHead.refuseSubsamplingAndInterpolation(head, in,
                "; this head's Fourier positions follow any input size without it");
    }

    @Override
    public Preprocessed preprocess(Run run, PerceiverInputs in) {
        Tensor x = TaskHead.floatInputs(head, in, "[batch, 3, height, width]");
        return preprocessor.apply(run, run.shared(x), "inputs", in.interpolatePosEncoding());
    }

    @Override
    public Map<String, Tensor> decode(Run run, Preprocessed pre, Tensor z, PerceiverInputs in) {
        return decoder.classify(run, z);
    }

    @Override
    public Tensor loss(Run run, Tensor logits, PerceiverInputs in) {
        return Losses.classification(run, config, logits, in);
    }

    @Override
    public boolean interpolatesPositions() {
        return preprocessor.hasTrainableImagePositions();
    }
}
