from numnet.cli import main

raise SystemExit(main())
