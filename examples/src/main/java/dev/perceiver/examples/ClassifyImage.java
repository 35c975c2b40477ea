package dev.perceiver.examples;

import dev.perceiver.task.ImageClassifier;
import dev.perceiver.task.Prediction;

import java.nio.file.Path;
import java.util.List;

/** Prints the five most likely classes of an image: ClassifyImage MODEL_DIR IMAGE. */
public class ClassifyImage {
    public static void main(String[] args) throws Exception {
        try (ImageClassifier classifier = ImageClassifier.open(Path.of(args[0]))) {
            List<Prediction> top = classifier.classify(Path.of(args[1]), 5);
            for (Prediction p : top) System.out.printf("%.4f  %s%n", p.probability(), p.label());
        }
    }
}
