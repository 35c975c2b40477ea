package dev.perceiver.task;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/** One candidate class: its index, label, softmax probability and raw logit. */
public record Prediction(int index, String label, double probability, float logit) {

    /** The k most likely classes of a row of logits, most likely first; a tie keeps the lower index first (argmax). */
    public static List<Prediction> topK(float[] logits, int k, IntFunction<String> label) {
        if (k < 1) throw new IllegalArgumentException("k must be at least 1, got " + k);
        double[] p = softmax(logits);
        List<Integer> order = new ArrayList<>(logits.length);
        for (int i = 0; i < logits.length; i++) order.add(i);
        order.sort((a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(a, b));
        List<Prediction> out = new ArrayList<>(Math.min(k, logits.length));
        for (int i : order.subList(0, Math.min(k, logits.length))) out.add(new Prediction(i, label.apply(i), p[i], logits[i]));
        return out;
    }

    /** Softmax in double, shifted by the maximum so large logits do not overflow. */
    public static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp(logits[i] - max);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }
}
