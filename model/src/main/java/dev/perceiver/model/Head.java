package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Activation;

import java.lang.foreign.SegmentAllocator;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The seven task heads of transformers' modeling_perceiver, named as in a config's architectures[0], each with the
 * head family that builds and runs it (one class per family) and the {@code perceiver} command of that family.
 * The head classes also make each head's sample inputs.
 */
public enum Head {
    MASKED_LM("PerceiverForMaskedLM", MaskedLanguageModelHead.TASK, MaskedLanguageModelHead::new,
            SampleInputs::tokens),
    SEQUENCE_CLASSIFICATION("PerceiverForSequenceClassification", SequenceClassificationHead.TASK,
            SequenceClassificationHead::new, SampleInputs::tokens),
    IMAGE_CLASSIFICATION_LEARNED("PerceiverForImageClassificationLearned", ImageClassificationHead.TASK,
            ImageClassificationHead::new, ImageClassificationHead::sampleAtImageSize),
    IMAGE_CLASSIFICATION_FOURIER("PerceiverForImageClassificationFourier", ImageClassificationHead.TASK,
            ImageClassificationHead::new, ImageClassificationHead::sample),
    IMAGE_CLASSIFICATION_CONV("PerceiverForImageClassificationConvProcessing", ImageClassificationHead.TASK,
            ImageClassificationHead::new, ImageClassificationHead::sample),
    OPTICAL_FLOW("PerceiverForOpticalFlow", OpticalFlowHead.TASK, OpticalFlowHead::new,
            OpticalFlowHead::sample),
    MULTIMODAL_AUTOENCODING("PerceiverForMultimodalAutoencoding", MultimodalAutoencodingHead.TASK,
            MultimodalAutoencodingHead::new, MultimodalAutoencodingHead::sample);

    private final String architecture;
    private final Task task;
    private final TaskHead.Builder builder;
    private final TaskHead.Sampler sampler;

    Head(String architecture, Task task, TaskHead.Builder builder, TaskHead.Sampler sampler) {
        this.architecture = architecture;
        this.task = task;
        this.builder = builder;
        this.sampler = sampler;
    }

    public String architecture() {
        return architecture;
    }

    /** What this head does: the {@code perceiver} command and the {@code dev.perceiver.task} class that run it. */
    public Task task() {
        return task;
    }

    TaskHead build(Weights root, PerceiverConfig config, Activation act) {
        return builder.build(this, root, config, act);
    }

    PerceiverInputs sample(PerceiverConfig config, int batch, SegmentAllocator alloc, SplittableRandom rnd) {
        return sampler.sample(config, batch, alloc, rnd);
    }

    public static Head of(String architecture) {
        for (Head h : values()) if (h.architecture.equals(architecture)) return h;
        throw new IllegalArgumentException("unsupported architecture '" + architecture + "'; this engine runs "
                + String.join(", ", Arrays.stream(values()).map(Head::architecture).toList()));
    }
}
