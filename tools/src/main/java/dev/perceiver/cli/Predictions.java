package dev.perceiver.cli;

import dev.perceiver.task.Prediction;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The two ways the commands print a prediction. */
final class Predictions {
    private Predictions() {}

    /** The text line: {@code probability  label (index)}. */
    static String line(Prediction p) {
        return String.format(Locale.ROOT, "%.4f  %s (%d)", p.probability(), p.label(), p.index());
    }

    static List<Map<String, Object>> json(List<Prediction> predictions) {
        return predictions.stream().map(p -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("label", p.label());
            m.put("index", p.index());
            m.put("probability", p.probability());
            m.put("logit", p.logit());
            return m;
        }).toList();
    }
}
