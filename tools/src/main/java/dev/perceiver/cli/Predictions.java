package dev.perceiver.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;

/** Softmax and top-k over one row of logits, and the two ways the commands print a prediction. */
final class Predictions {
    /** One class: its index, name, softmax probability and raw logit. */
    record Prediction(int index, String label, double probability, float logit) {
        /** The text line: {@code probability  label (index)}. */
        String line() {
            return String.format(Locale.ROOT, "%.4f  %s (%d)", probability, label, index);
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("label", label);
            m.put("index", index);
            m.put("probability", probability);
            m.put("logit", logit);
            return m;
        }
    }

    private Predictions() {}

    /** Softmax in double, shifted by the maximum so large logits do not overflow. */
    static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp(logits[i] - max);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }

    /** The k most likely classes, most likely first; ties keep the lower index first, as argmax does. */
    static List<Prediction> topK(float[] logits, int k, IntFunction<String> label) {
        double[] p = softmax(logits);
        List<Integer> order = new ArrayList<>(logits.length);
        for (int i = 0; i < logits.length; i++) order.add(i);
        order.sort((a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(a, b));
        List<Prediction> out = new ArrayList<>(Math.min(k, logits.length));
        for (int i : order.subList(0, Math.min(k, logits.length))) out.add(new Prediction(i, label.apply(i), p[i], logits[i]));
        return out;
    }

    static List<Map<String, Object>> json(List<Prediction> predictions) {
        return predictions.stream().map(Prediction::json).toList();
    }
}
