package ai.chunkwise.train.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Never-half-written files: everything is written under a temporary name in the destination's directory
 * (same file system, so the final rename is atomic), flushed to disk, then renamed into place.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes the content of one file. */
    @FunctionalInterface
    public interface ChannelWriter {
        void write(FileChannel channel) throws IOException;
    }

    /** Writes a directory's files. */
    @FunctionalInterface
    public interface DirectoryWriter {
        void write(Path directory) throws IOException;
    }

    public static void write(Path target, ChannelWriter writer) {
        viaTemporarySibling(target, "", (tmp, absolute) -> {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writer.write(channel);
                channel.force(true);
            }
            moveAtomically(tmp, absolute);
        });
    }

    public static void writeString(Path target, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, channel -> {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        });
    }

    /**
     * Writes a set of files into {@code directory}: they are first written into a temporary sibling directory;
     * a new directory is then renamed into place as a whole, an existing one receives each file by an atomic
     * rename (other files already in it are left alone).
     */
    public static void writeDirectory(Path directory, DirectoryWriter writer) {
        viaTemporarySibling(directory, "directory ", (tmp, absolute) -> {
            Files.createDirectory(tmp);
            writer.write(tmp);
            if (!Files.exists(absolute)) {
                moveAtomically(tmp, absolute);
                return;
            }
            if (!Files.isDirectory(absolute)) {
                throw new IOException(absolute + " exists and is not a directory");
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
                for (Path file : files) {
                    moveAtomically(file, absolute.resolve(file.getFileName().toString()));
                }
            }
            Files.delete(tmp);
        });
    }

    /**
     * Writes a directory as a whole and publishes it by rename. If {@code directory} already exists (a damaged
     * checkpoint being rewritten), it is first renamed aside under a temporary name and deleted only once the new
     * one is in place.
     */
    public static void replaceDirectory(Path directory, DirectoryWriter writer) {
        viaTemporarySibling(directory, "directory ", (tmp, absolute) -> {
            Files.createDirectory(tmp);
            writer.write(tmp);
            if (Files.exists(absolute, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Path aside = temporarySibling(absolute);
                moveAtomically(absolute, aside);
                moveAtomically(tmp, absolute);
                deleteRecursivelyQuietly(aside);
            } else {
                moveAtomically(tmp, absolute);
            }
        });
    }

    /** Writes {@code temporary} (a sibling of {@code target}, absolute) and publishes it by renames. */
    @FunctionalInterface
    private interface Publication {
        void writeAndPublish(Path temporary, Path target) throws IOException;
    }

    /**
     * The one shape of every write here: a temporary sibling of {@code target} in its (created) parent directory,
     * written and published by {@code publication}; on any failure the temporary is removed and the error names
     * the target ({@code kind} is "" or "directory ").
     */
    private static void viaTemporarySibling(Path target, String kind, Publication publication) {
        Path absolute = target.toAbsolutePath();
        Path tmp = temporarySibling(absolute);
        try {
            Files.createDirectories(absolute.getParent());
            publication.writeAndPublish(tmp, absolute);
        } catch (IOException e) {
            deleteRecursivelyQuietly(tmp);
            throw new UncheckedIOException("could not write " + kind + target + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteRecursivelyQuietly(tmp);
            throw e;
        }
    }

    private static Path temporarySibling(Path target) {
        return target.resolveSibling("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid()
                + "-" + System.nanoTime());
    }

    private static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + to + " cannot rename atomically; write checkpoints to a local"
                    + " or POSIX file system", e);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // best effort: the original error is the one worth reporting
        }
    }

    private static void deleteRecursivelyQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(AtomicFiles::deleteQuietly);
        } catch (IOException ignored) {
            // best effort, as above
        }
    }
}
