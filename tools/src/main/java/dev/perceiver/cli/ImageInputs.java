package dev.perceiver.cli;

import dev.perceiver.io.ImageFiles;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Image files on the command line. */
final class ImageInputs {
    private ImageInputs() {}

    /** One input of a batch: an image file, or why a name on the command line gives none. */
    record Input(String name, Path file, String error) {
    }

    /**
     * Files as given and the image files of folders (sorted by name; with recursive, of their subfolders too), in
     * command-line order; "-" stands for the paths read from stdin, one a line. A name that gives no image is an
     * input with its error, so that it costs only its own result.
     */
    static List<Input> expand(List<String> paths, boolean recursive, InputStream stdin) throws IOException {
        List<Input> inputs = new ArrayList<>();
        for (String s : paths) {
            if (s.equals("-")) {
                for (String line : new String(stdin.readAllBytes(), StandardCharsets.UTF_8).split("\r?\n"))
                    if (!line.isBlank()) inputs.addAll(expand(line.strip(), recursive));
            } else {
                inputs.addAll(expand(s, recursive));
            }
        }
        return inputs;
    }

    private static List<Input> expand(String name, boolean recursive) throws IOException {
        Path p;
        try {
            p = Path.of(name);
        } catch (InvalidPathException e) {
            return List.of(new Input(name, null, "not a valid path: " + e.getReason()));
        }
        if (Files.isDirectory(p)) {
            List<Path> images = ImageFiles.list(p, recursive);
            if (images.isEmpty())
                return List.of(new Input(name, null, "no PNG, JPEG, BMP or GIF images in this folder"
                        + (recursive ? " or its subfolders" : " (--recursive also reads its subfolders)")));
            return images.stream().map(f -> new Input(f.toString(), f, null)).toList();
        }
        return List.of(Files.exists(p) ? new Input(name, p, null) : new Input(name, null, "no such file"));
    }
}
