package ai.chunkwise.train.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@value #FILE_NAME} inside a checkpoint directory: the SHA-256 of every other file in it, one line per file in
 * the format of {@code sha256sum} ("hex, two spaces, relative path"), so {@code sha256sum -c checksums.sha256}
 * checks a checkpoint by hand too. Written inside the temporary directory before the checkpoint is published.
 */
public final class CheckpointChecksums {
    public static final String FILE_NAME = "checksums.sha256";

    private CheckpointChecksums() {
    }

    /** Hashes every regular file under {@code dir} and writes the list (atomically) into it. */
    public static void write(Path dir) {
        StringBuilder out = new StringBuilder();
        hashAll(dir).forEach((name, sha) -> out.append(sha).append("  ").append(name).append('\n'));
        AtomicFiles.writeString(dir.resolve(FILE_NAME), out.toString());
    }

    /** Whether the checkpoint has a checksum list at all (checkpoints written before it was introduced do not). */
    public static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE_NAME));
    }

    /**
     * Checks every listed file against its SHA-256, and that no listed file is missing.
     *
     * @throws CheckpointDamagedException naming the first file that is missing, truncated or altered
     */
    public static void verify(Path dir) {
        Path list = dir.resolve(FILE_NAME);
        List<String> lines;
        try {
            lines = Files.readAllLines(list, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new CheckpointDamagedException(dir, "has no " + FILE_NAME);
        } catch (IOException e) {
            throw new CheckpointDamagedException(dir, "cannot read " + FILE_NAME + ": " + e.getMessage());
        }
        int entries = 0;
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            int sep = line.indexOf("  ");
            if (sep != 64 || line.length() <= 66) {
                throw new CheckpointDamagedException(dir, FILE_NAME + " has a malformed line: '" + line + "'");
            }
            String expected = line.substring(0, 64);
            String name = line.substring(66);
            Path file = dir.resolve(name).normalize();
            if (!file.startsWith(dir.normalize()) || file.equals(dir.normalize())) {
                throw new CheckpointDamagedException(dir, FILE_NAME + " lists a path outside the checkpoint: '" + name + "'");
            }
            if (!Files.isRegularFile(file)) {
                throw new CheckpointDamagedException(dir, "file " + name + " is missing");
            }
            String actual = sha256(file);
            if (!actual.equalsIgnoreCase(expected)) {
                throw new CheckpointDamagedException(dir, "file " + name + " fails its SHA-256 check (is " + actual
                        + ", was written as " + expected + "): it is truncated or altered");
            }
            entries++;
        }
        if (entries == 0) {
            throw new CheckpointDamagedException(dir, FILE_NAME + " is empty");
        }
    }

    /** SHA-256 of every regular file under {@code dir} but the checksum list itself, by relative path ('/'). */
    static Map<String, String> hashAll(Path dir) {
        Map<String, String> hashes = new TreeMap<>();
        List<Path> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.filter(Files::isRegularFile).forEach(files::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        for (Path f : files) {
            String name = dir.relativize(f).toString().replace('\\', '/');
            if (!name.equals(FILE_NAME)) {
                hashes.put(name, sha256(f));
            }
        }
        return hashes;
    }

    public static String sha256(Path file) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            byte[] buf = new byte[1 << 16];
            while (in.read(buf) >= 0) {
                // the digest stream hashes what passes through
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
