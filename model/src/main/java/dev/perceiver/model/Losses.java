package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;

import java.util.Arrays;

/**
 * The reference's training losses, computed in double: masked-LM cross-entropy, and for the classifiers the
 * problem_type rules (regression → MSE, single-label → cross-entropy, multi-label → BCE with logits).
 * Cross-entropy skips targets of -100 (torch's ignore_index) and averages over the rest.
 */
final class Losses {
    private static final long IGNORE_INDEX = -100;

    private Losses() {}

    /** Masked language modelling: cross-entropy of logits [B, N, vocab] against int64 token ids [B, N]. */
    static Tensor maskedLanguageModelling(Run run, Tensor logits, PerceiverInputs in) {
        LongTensor labels = in.labelIndices();
        if (labels == null) throw new InvalidInputException("labels: masked language modelling takes int64 token ids");
        int vocab = logits.dim(-1);
        long rows = logits.size() / vocab;
        if (labels.data().length != rows)
            throw new InvalidInputException("labels has " + labels.data().length + " values but the model predicts "
                    + rows + " tokens (pad labels to " + Arrays.toString(Arrays.copyOf(logits.shape(), 2)) + ")");
        return scalar(run, crossEntropy(logits.reshape(-1, vocab), labels.data()));
    }

    /** A classifier's loss of logits [B, num_labels] by the config's problem_type (guessed from the labels when unset). */
    static Tensor classification(Run run, PerceiverConfig config, Tensor logits, PerceiverInputs in) {
        int numLabels = logits.dim(1);
        String problem = config.problemType();
        if (problem == null)
            problem = numLabels == 1 ? "regression"
                    : in.labelIndices() != null ? "single_label_classification" : "multi_label_classification";
        return scalar(run, switch (problem) {
            case "regression" -> meanSquaredError(logits, floatLabels(in, logits, problem));
            case "single_label_classification" -> {
                LongTensor labels = in.labelIndices();
                if (labels == null || labels.data().length != logits.dim(0))
                    throw new InvalidInputException("labels: single-label classification takes " + logits.dim(0)
                            + " int64 class indices, one per batch item");
                yield crossEntropy(logits, labels.data());
            }
            case "multi_label_classification" -> binaryCrossEntropy(logits, floatLabels(in, logits, problem));
            default -> throw new IllegalArgumentException("unknown problem_type '" + problem + "'");
        });
    }

    private static Tensor scalar(Run run, double loss) {
        Tensor out = run.result(1);
        out.set((float) loss, 0);
        return out;
    }

    private static float[] floatLabels(PerceiverInputs in, Tensor logits, String problem) {
        Tensor labels = in.labelValues();
        boolean squeezed = logits.dim(1) == 1 && labels != null && labels.size() == logits.dim(0);
        if (labels == null || (!squeezed && !Arrays.equals(labels.shape(), logits.shape())))
            throw new InvalidInputException("labels: " + problem + " takes float targets shaped like the logits "
                    + Arrays.toString(logits.shape()));
        return labels.toArray();
    }

    static double crossEntropy(Tensor logits, long[] targets) {
        int classes = logits.dim(1);
        float[] x = logits.toArray();
        double sum = 0;
        int counted = 0;
        for (int r = 0; r < targets.length; r++) {
            if (targets[r] == IGNORE_INDEX) continue;
            if (targets[r] < 0 || targets[r] >= classes)
                throw new InvalidInputException("labels[" + r + "] = " + targets[r] + " is not a class in [0, " + classes + ")");
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, x[r * classes + c]);
            double s = 0;
            for (int c = 0; c < classes; c++) s += Math.exp(x[r * classes + c] - max);
            sum += max + Math.log(s) - x[r * classes + (int) targets[r]];
            counted++;
        }
        return sum / counted;
    }

    static double meanSquaredError(Tensor logits, float[] targets) {
        float[] x = logits.toArray();
        double s = 0;
        for (int i = 0; i < x.length; i++) s += (x[i] - (double) targets[i]) * (x[i] - (double) targets[i]);
        return s / x.length;
    }

    /** mean of max(x, 0) - x·y + log(1 + exp(-|x|)), the stable form torch uses. */
    static double binaryCrossEntropy(Tensor logits, float[] targets) {
        float[] x = logits.toArray();
        double s = 0;
        for (int i = 0; i < x.length; i++)
            s += Math.max(x[i], 0) - x[i] * (double) targets[i] + Math.log1p(Math.exp(-Math.abs(x[i])));
        return s / x.length;
    }
}
