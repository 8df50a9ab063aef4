package ai.chunkwise.tokenize.input;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.util.StringUtils;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The input files a path or glob names, and the root they are keyed relative to.
 *
 * <p>A document's identity is (file path relative to {@link #root()}, record index in that file), so moving
 * the whole input tree elsewhere does not change the output. The root is the input directory, the parent of an
 * input file, or, for a glob, the deepest directory above the first glob character.
 */
public record InputFiles(Path pattern, Path root, List<FileStatus> files, boolean onlyListedFiles) {

    /** Resolves the input; a clear error if it matches nothing (checked before any Spark work). */
    public static InputFiles resolve(String input, Configuration hadoopConf) {
        try {
            Path pattern = new Path(input);
            FileSystem fs = pattern.getFileSystem(hadoopConf);
            pattern = fs.makeQualified(pattern);
            FileStatus[] matched = fs.globStatus(pattern);
            if (matched == null || matched.length == 0) {
                throw new IllegalArgumentException("input " + input + " does not exist (no file matches it); "
                        + "give an existing file, directory or glob with --input");
            }
            Path root;
            if (isGlob(input)) {
                root = globRoot(pattern);
            } else if (matched[0].isDirectory()) {
                root = matched[0].getPath();
            } else {
                root = matched[0].getPath().getParent();
            }
            List<FileStatus> files = new ArrayList<>();
            for (FileStatus s : matched) {
                collect(fs, s, files);
            }
            if (files.isEmpty()) {
                throw new IllegalArgumentException("input " + input + " matches no data files (directories are empty "
                        + "or hold only hidden files starting with '.' or '_')");
            }
            files.sort(Comparator.comparing(s -> s.getPath().toString()));
            return new InputFiles(pattern, root, List.copyOf(files), false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list input " + input + ": " + e.getMessage(), e);
        }
    }

    // Hadoop's FileInputFormat reads the files directly inside a directory and skips hidden ones; list the same.
    private static void collect(FileSystem fs, FileStatus s, List<FileStatus> out) throws IOException {
        if (s.isDirectory()) {
            for (FileStatus child : fs.listStatus(s.getPath())) {
                if (child.isFile() && !isHidden(child.getPath())) {
                    out.add(child);
                }
            }
        } else if (!isHidden(s.getPath())) {
            out.add(s);
        }
    }

    private static boolean isHidden(Path p) {
        String n = p.getName();
        return n.startsWith(".") || n.startsWith("_");
    }

    static boolean isGlob(String s) {
        return s.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
    }

    private static Path globRoot(Path qualifiedPattern) {
        // deepest ancestor none of whose components contains a glob character
        Path candidate = qualifiedPattern.getParent();
        while (candidate != null && containsGlob(candidate)) {
            candidate = candidate.getParent();
        }
        return candidate;
    }

    private static boolean containsGlob(Path p) {
        return isGlob(p.toUri().getPath());
    }

    /** The same root with only some of the files (an incremental run reads the new files only). */
    public InputFiles only(List<FileStatus> subset) {
        return new InputFiles(pattern, root, List.copyOf(subset), true);
    }

    /**
     * What Spark's readers are given: the pattern, or the listed files comma-separated (escaped as Hadoop's
     * FileInputFormat.setInputPaths expects).
     */
    public String readPaths() {
        if (!onlyListedFiles) {
            return pattern.toString();
        }
        return String.join(",", files.stream().map(f -> StringUtils.escapeString(f.getPath().toString())).toList());
    }

    /** The stable key of a file of this input: its path relative to the root. */
    public String keyOf(FileStatus file) {
        return relativeKey(root.toUri(), file.getPath().toUri());
    }

    public long totalBytes() {
        return files.stream().mapToLong(FileStatus::getLen).sum();
    }

    /** The stable key of a file: its path relative to the root ("a/b.txt"). */
    public static String relativeKey(URI root, URI file) {
        String r = root.getPath();
        String f = file.getPath();
        if (!r.endsWith("/")) {
            r = r + "/";
        }
        if (!f.startsWith(r)) {
            // not below the root (cannot happen for files the glob matched); fall back to the full path
            return f;
        }
        return f.substring(r.length());
    }
}
