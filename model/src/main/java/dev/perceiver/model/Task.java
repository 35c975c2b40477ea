package dev.perceiver.model;

import java.util.Arrays;
import java.util.List;

/**
 * What a head family does for its user, named as the {@code perceiver} command that does it; the library's
 * {@code dev.perceiver.task} classes do the same, one class per task.
 */
public enum Task {
    CLASSIFY("classify"),
    CLASSIFY_TEXT("classify-text"),
    FILL_MASK("fill-mask"),
    FLOW("flow"),
    AUTOENCODE("autoencode");

    private final String command;

    Task(String command) {
        this.command = command;
    }

    /** The perceiver command of this task. */
    public String command() {
        return command;
    }

    /** The heads that do this task, in {@link Head} order. */
    public List<Head> heads() {
        return Arrays.stream(Head.values()).filter(h -> h.task() == this).toList();
    }
}
