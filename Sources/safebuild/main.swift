import SafebuildKit

Safebuild.main()
