"""Network shares: the camera's list of NAS shares, and talking SMB 2/3 to them."""
