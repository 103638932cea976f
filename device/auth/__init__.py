"""Who is calling: HTTP Digest and Basic as an Axis camera does them, shared by the HTTP and RTSP servers."""
