/**
 * Float32 kernels on off-heap memory segments: {@link dev.perceiver.ops.Kernels} and the matrices they work on. The
 * Vector API implementations, their warm-up and the kernel selection are package-private. With native access
 * ({@code --enable-native-access=dev.perceiver.ops}, ALL-UNNAMED on the class path) the kernels learn where arrays lie
 * and align their vector loads; without it they run unaligned and print nothing.
 */
module dev.perceiver.ops {
    requires jdk.incubator.vector;
    requires java.management; // the JVM's arguments, for the kernel selection's reasons

    exports dev.perceiver.ops;
}
