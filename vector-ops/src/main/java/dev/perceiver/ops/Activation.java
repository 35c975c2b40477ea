package dev.perceiver.ops;

/** Element-wise functions a matrix product can apply to its output. */
public enum Activation {
    NONE,
    /** The exact form 0.5·x·(1 + erf(x/√2)), as torch's nn.functional.gelu with approximate='none'. */
    GELU,
    RELU
}
