"""What runs inside the image (copied into the build context, never imported by the plugin)."""
