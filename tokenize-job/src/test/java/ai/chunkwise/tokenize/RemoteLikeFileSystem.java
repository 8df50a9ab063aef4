package ai.chunkwise.tokenize;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.DelegateToFileSystem;
import org.apache.hadoop.fs.RawLocalFileSystem;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * {@code remotefs:///path}: the local disk under a scheme of its own, so that the job treats it as it treats hdfs://
 * or s3a:// (a Hadoop lock, FileContext renames) without a cluster. Registered by {@code remotefs-site.xml}.
 */
public class RemoteLikeFileSystem extends RawLocalFileSystem {
    public static final String SCHEME = "remotefs";

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    /** The FileContext binding of the scheme ({@code fs.AbstractFileSystem.remotefs.impl}). */
    public static class Fs extends DelegateToFileSystem {
        public Fs(URI uri, Configuration conf) throws IOException, URISyntaxException {
            super(uri, new RemoteLikeFileSystem(), conf, SCHEME, false);
        }
    }
}
