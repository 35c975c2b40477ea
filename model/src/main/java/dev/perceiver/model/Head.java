package dev.perceiver.model;

import java.util.Arrays;

/** The seven task heads of transformers' modeling_perceiver, named as in a config's architectures[0]. */
public enum Head {
    MASKED_LM("PerceiverForMaskedLM"),
    SEQUENCE_CLASSIFICATION("PerceiverForSequenceClassification"),
    IMAGE_CLASSIFICATION_LEARNED("PerceiverForImageClassificationLearned"),
    IMAGE_CLASSIFICATION_FOURIER("PerceiverForImageClassificationFourier"),
    IMAGE_CLASSIFICATION_CONV("PerceiverForImageClassificationConvProcessing"),
    OPTICAL_FLOW("PerceiverForOpticalFlow"),
    MULTIMODAL_AUTOENCODING("PerceiverForMultimodalAutoencoding");

    private final String architecture;

    Head(String architecture) {
        this.architecture = architecture;
    }

    public String architecture() {
        return architecture;
    }

    public boolean isImageClassifier() {
        return this == IMAGE_CLASSIFICATION_LEARNED || this == IMAGE_CLASSIFICATION_FOURIER || this == IMAGE_CLASSIFICATION_CONV;
    }

    public boolean isClassifier() {
        return isImageClassifier() || this == SEQUENCE_CLASSIFICATION;
    }

    public boolean takesTokens() {
        return this == MASKED_LM || this == SEQUENCE_CLASSIFICATION;
    }

    public static Head of(String architecture) {
        for (Head h : values()) if (h.architecture.equals(architecture)) return h;
        throw new IllegalArgumentException("unsupported architecture '" + architecture + "'; this engine runs "
                + String.join(", ", Arrays.stream(values()).map(Head::architecture).toList()));
    }
}
