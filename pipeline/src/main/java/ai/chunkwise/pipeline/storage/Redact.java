package ai.chunkwise.pipeline.storage;

import java.util.regex.Pattern;

/**
 * Removes credentials written into URIs ({@code s3a://KEY:SECRET@bucket/x}) before a path is logged or recorded
 * in a manifest. Credentials belong in the Hadoop/Spark configuration (fs.s3a.access.key, ...), which the jobs
 * never print; this guards against a secret pasted into a path.
 */
public final class Redact {
    private static final Pattern USER_INFO = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\\s]*@");

    private Redact() {
    }

    public static String uri(String s) {
        return s == null ? null : USER_INFO.matcher(s).replaceAll("$1***@");
    }
}
