/**
 * Float32 kernels on off-heap memory segments: {@link dev.perceiver.ops.Kernels} and the matrices they work on. The
 * Vector API implementations, their warm-up and the kernel selection are package-private.
 */
module dev.perceiver.ops {
    requires jdk.incubator.vector;
    requires java.management; // the JVM's arguments, for the kernel selection's reasons

    exports dev.perceiver.ops;
}
