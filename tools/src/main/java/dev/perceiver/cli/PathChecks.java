package dev.perceiver.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Paths from the command line, checked before any work: a failure names the option (or the argument) and why, with
 * the exit code of its kind: bad input, bad model, or an output that cannot be written.
 */
final class PathChecks {
    private PathChecks() {}

    /** An existing, readable file; option is null for a positional argument. */
    static Path file(String option, String value, int code) {
        Path p = Path.of(value);
        if (!Files.exists(p)) throw new Failure(code, label(option, value) + ": no such file");
        if (Files.isDirectory(p)) throw new Failure(code, label(option, value) + ": is a folder, not a file");
        if (!Files.isReadable(p)) throw new Failure(code, label(option, value) + ": cannot be read (permission denied)");
        return p;
    }

    /** An existing, readable folder. */
    static Path folder(String option, String value, int code) {
        Path p = Path.of(value);
        if (!Files.exists(p)) throw new Failure(code, label(option, value) + ": no such folder");
        if (!Files.isDirectory(p)) throw new Failure(code, label(option, value) + ": is a file, not a folder");
        if (!Files.isReadable(p)) throw new Failure(code, label(option, value) + ": cannot be read (permission denied)");
        return p;
    }

    /**
     * Where a file (or, if folder, a folder) will be written: its parent folder must exist and be writable, as every
     * command requires; an existing path must be of the right kind and writable.
     */
    static Path output(String option, String value, boolean folder) {
        Path p = Path.of(value);
        String label = label(option, value);
        if (Files.isDirectory(p) != folder && Files.exists(p))
            throw new Failure(Main.BAD_OUTPUT, label + (folder ? ": is a file, not a folder" : ": is a folder, not a file"));
        if (Files.exists(p) && !Files.isWritable(p)) throw new Failure(Main.BAD_OUTPUT, label + ": cannot be written (permission denied)");
        Path parent = p.toAbsolutePath().getParent();
        if (!Files.exists(p) && parent != null) {
            if (!Files.isDirectory(parent)) throw new Failure(Main.BAD_OUTPUT, label + ": parent folder does not exist");
            if (!Files.isWritable(parent))
                throw new Failure(Main.BAD_OUTPUT, label + ": parent folder cannot be written (permission denied)");
        }
        return p;
    }

    private static String label(String option, String value) {
        return option == null ? value : option + " " + value;
    }

    /** An I/O failure as words: the file and the reason, without the exception's class. */
    static String describe(IOException e) {
        String reason = switch (e) {
            case NoSuchFileException _ -> "no such file or folder";
            case AccessDeniedException _ -> "permission denied";
            case NotDirectoryException _ -> "not a folder";
            case FileAlreadyExistsException _ -> "already exists";
            case DirectoryNotEmptyException _ -> "folder is not empty";
            case FileSystemException f -> f.getReason() != null ? f.getReason() : "file-system error";
            default -> e.getMessage() != null ? e.getMessage() : "read or write failed";
        };
        return e instanceof FileSystemException f && f.getFile() != null ? f.getFile() + ": " + reason : reason;
    }
}
