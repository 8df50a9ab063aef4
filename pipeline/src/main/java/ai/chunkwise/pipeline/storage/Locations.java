package ai.chunkwise.pipeline.storage;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * Locations given on a command line or in a configuration: a plain local path, a {@code file:} URI, or a URI of
 * any Hadoop file system ({@code hdfs://namenode:8020/x}, {@code s3a://bucket/x}). They are kept as strings: a
 * java.nio {@code Path} (or {@code File}) collapses the {@code //} of a URI, so {@code hdfs://host:8020/x} would
 * become {@code hdfs:/host:8020/x} and lose its host.
 *
 * <p>Inputs that the code reads with local file APIs (a model directory, an adapter, a config file) are fetched
 * from a remote file system into a fresh local copy under {@code java.io.tmpdir/chunkwise-inputs/}.
 */
public final class Locations {
    private Locations() {
    }

    /** Whether {@code location} names a non-local Hadoop file system (a URI scheme other than file:). */
    public static boolean isRemote(String location) {
        URI uri = uri(location);
        // a one-letter scheme is a Windows drive (C:\...), not a file system
        return uri != null && uri.getScheme() != null && uri.getScheme().length() > 1 && !"file".equals(uri.getScheme());
    }

    /** The local path of a plain path or a {@code file:} URI; a remote location is refused (use {@link #fetch}). */
    public static Path localPath(String location) {
        if (isRemote(location)) {
            throw new IllegalArgumentException(location + " is not on the local file system");
        }
        URI uri = uri(location);
        if (uri != null && "file".equals(uri.getScheme())) {
            return Path.of(uri.getPath());
        }
        return Path.of(location);
    }

    /**
     * A local path holding what {@code location} names: the path itself when it is local, else a fresh copy of
     * the remote file or directory (copied to a temporary name and renamed, so a half-copied input is never used).
     *
     * @param what what the location is, for messages (e.g. "--model" or "train.model.path")
     */
    public static Path fetch(String what, String location, Configuration conf) {
        if (location == null) {
            return null;
        }
        if (!isRemote(location)) {
            return localPath(location);
        }
        org.apache.hadoop.fs.Path remote = new org.apache.hadoop.fs.Path(location);
        try {
            FileSystem fs = remote.getFileSystem(conf);
            FileStatus status;
            try {
                status = fs.getFileStatus(remote);
            } catch (java.io.FileNotFoundException e) {
                throw new IllegalArgumentException(what + " " + location + " does not exist");
            }
            Path root = Path.of(System.getProperty("java.io.tmpdir"), "chunkwise-inputs");
            Files.createDirectories(root);
            Path target = root.resolve(shortHash(location) + "-" + remote.getName());
            Path partial = Files.createTempDirectory(root, ".fetch-");
            Path copy = partial.resolve(remote.getName());
            FileUtil.copy(fs, status, FileSystem.getLocal(conf).getRawFileSystem(),
                    new org.apache.hadoop.fs.Path(copy.toUri()), false, true, conf);
            deleteRecursively(target);
            Files.move(copy, target);
            deleteRecursively(partial);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch " + what + " " + location + ": " + e.getMessage(), e);
        }
    }

    /**
     * Puts the local file {@code local} at {@code location}: moved there when it is local, else uploaded under a
     * temporary name beside it and renamed into place.
     */
    public static void publish(String what, Path local, String location, Configuration conf) {
        org.apache.hadoop.fs.Path remote = new org.apache.hadoop.fs.Path(location);
        try {
            FileSystem fs = remote.getFileSystem(conf);
            org.apache.hadoop.fs.Path partial = new org.apache.hadoop.fs.Path(remote.getParent(),
                    "." + remote.getName() + ".tmp-" + ProcessHandle.current().pid());
            fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(local.toUri()), partial);
            if (fs.exists(remote) && !fs.delete(remote, false)) {
                throw new IOException("cannot replace " + location);
            }
            if (!fs.rename(partial, remote)) {
                throw new IOException("rename of " + partial + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + what + " " + location + ": " + e.getMessage(), e);
        }
    }

    private static URI uri(String location) {
        if (location == null) {
            return null;
        }
        try {
            return new URI(location.trim());
        } catch (URISyntaxException e) {
            return null;
        }
    }

    private static String shortHash(String s) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
