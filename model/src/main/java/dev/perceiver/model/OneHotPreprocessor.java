package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.runtime.Tensor;

import java.util.Arrays;
import java.util.Map;

/** transformers' PerceiverOneHotPreprocessor: a [B, num_labels] label vector becomes one token [B, 1, num_labels]. */
final class OneHotPreprocessor implements ModalityPreprocessor {
    private final int numLabels;

    OneHotPreprocessor(int numLabels) {
        this.numLabels = numLabels;
    }

    @Override
    public int numChannels() {
        return numLabels;
    }

    @Override
    public Preprocessed apply(Run run, Tensor x, String name) {
        if (x.rank() != 2 || x.dim(1) != numLabels)
            throw new InvalidInputException(name + " must be [batch, " + numLabels + "] (num_labels), got "
                    + Arrays.toString(x.shape()));
        Tensor token = x.copy(run.scratch()).reshape(x.dim(0), 1, numLabels);
        return new Preprocessed(EncoderInput.of(token, InputLayout.allVariable("label", 1, numLabels)), null, Map.of("", token));
    }
}
