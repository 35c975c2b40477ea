package dev.perceiver.model;

import java.util.Map;

/**
 * One timed span of a traced forward pass ({@link Perceiver.Extra#TRACE}): the pass itself, a stage, a block of
 * layers, a layer or a kernel call, on the thread that made it. Times are nanoseconds from the start of the pass; spans of one thread
 * nest. args holds a kernel's sizes (for example a linear layer's rows m, inputs k and outputs n).
 */
public record TraceEvent(String category, String name, long startNanos, long durationNanos, String thread,
                         Map<String, Object> args) {
    public static final String PASS = "pass", STAGE = "stage", BLOCK = "block", LAYER = "layer", KERNEL = "kernel";
}
